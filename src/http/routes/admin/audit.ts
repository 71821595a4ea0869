import { z } from "zod";
import type { Endpoint } from "../../context.js";
import type { RouterServices } from "../../services.js";
import { recordAudit } from "./rules-audit.js";
import { auditEntrySchema, limitQuery, storeOf } from "./rules-shared.js";

const auditPage = z
  .object({ entries: z.array(auditEntrySchema), nextOffset: z.number().int().nullable() })
  .meta({ id: "AuditPage" });

/** `GET /v1/admin/audit`: who changed what, when; newest first. */
export const getAudit: Endpoint<RouterServices> = {
  method: "GET",
  path: "/v1/admin/audit",
  scopes: ["admin"],
  openapi: {
    tags: ["admin: audit"],
    summary: "The admin audit log, newest first",
    description:
      "Paginate with `?limit` (1–500, default 50) and `?offset` (the previous page's `nextOffset`).",
    request: { query: z.object({ limit: z.string().optional(), offset: z.string().optional() }) },
    responses: { 200: { description: "One page", content: { "application/json": { schema: auditPage } } } },
  },
  handler: async (c, svc) => {
    const limit = limitQuery(c, 50, 500);
    const rawOffset = c.req.query("offset");
    const offset = rawOffset !== undefined && /^\d{1,6}$/.test(rawOffset) ? Number(rawOffset) : 0;
    const entries = await storeOf(svc).auditLog(limit, offset);
    // Recorded after reading, so the page shows what happened before this call; the next page
    // starts one further down because this entry is pushed on top.
    await recordAudit(
      c,
      svc,
      "read_audit",
      `read ${entries.length} audit entr${entries.length === 1 ? "y" : "ies"}`,
    );
    return c.json({ entries, nextOffset: entries.length === limit ? offset + limit + 1 : null }, 200);
  },
};
