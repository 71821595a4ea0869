import { z } from "zod";
import type { Endpoint } from "../../context.js";
import { ApiError, detailOf } from "../../errors.js";
import type { RouterServices } from "../../services.js";
import { recordAudit } from "./rules-audit.js";
import { auditEntrySchema, limitQuery, storeOf } from "./rules-shared.js";

const auditPage = z
  .object({ entries: z.array(auditEntrySchema), nextOffset: z.number().int().nullable() })
  .meta({ id: "AuditPage" });

/**
 * `GET /v1/admin/audit`: who changed what, when (publishes, rollbacks, refused publishes), newest
 * first; `?kind=all` pages through every admin call instead, reads included.
 */
export const getAudit: Endpoint<RouterServices> = {
  method: "GET",
  path: "/v1/admin/audit",
  scopes: ["admin"],
  openapi: {
    tags: ["admin: audit"],
    summary: "The admin audit log, newest first",
    description:
      "By default the changes only (publish, rollback, publish_refused, publish_dir); `?kind=all` lists every admin call, reads included (each is recorded). Paginate with `?limit` (1–500, default 50) and `?offset` (the previous page's `nextOffset`).",
    request: {
      query: z.object({
        kind: z.enum(["changes", "all"]).optional(),
        limit: z.string().optional(),
        offset: z.string().optional(),
      }),
    },
    responses: { 200: { description: "One page", content: { "application/json": { schema: auditPage } } } },
  },
  handler: async (c, svc) => {
    const limit = limitQuery(c, 50, 500);
    const rawOffset = c.req.query("offset");
    const offset = rawOffset !== undefined && /^\d{1,6}$/.test(rawOffset) ? Number(rawOffset) : 0;
    const kind = c.req.query("kind") ?? "changes";
    if (kind !== "changes" && kind !== "all") {
      const errors = [{ path: "kind", message: "expected changes or all" }];
      throw new ApiError("validation_failed", detailOf(errors), errors);
    }
    const entries = await storeOf(svc).auditLog(limit, offset, kind === "all");
    // Recorded after reading, so the page shows what happened before this call; the next page of
    // `all` starts one further down because this entry is pushed on top of that log.
    await recordAudit(
      c,
      svc,
      "read_audit",
      `read ${entries.length} audit entr${entries.length === 1 ? "y" : "ies"}`,
    );
    const shift = kind === "all" ? 1 : 0;
    return c.json({ entries, nextOffset: entries.length === limit ? offset + limit + shift : null }, 200);
  },
};
