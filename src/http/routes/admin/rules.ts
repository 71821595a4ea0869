import type { Endpoint } from "../../context.js";
import { ApiError } from "../../errors.js";
import type { RouterServices } from "../../services.js";
import { recordAudit } from "./rules-audit.js";
import { storedVersionSchema, storeOf } from "./rules-shared.js";

/** `GET /v1/admin/rules`: the active ruleset with its version as ETag. */
export const getActiveRules: Endpoint<RouterServices> = {
  method: "GET",
  path: "/v1/admin/rules",
  scopes: ["admin"],
  openapi: {
    tags: ["admin: rules"],
    summary: "The active ruleset",
    description:
      'The version in force with its files. `ETag: "<version>"` — send it back as `If-Match` when publishing.',
    responses: {
      200: {
        description: "The active version",
        content: { "application/json": { schema: storedVersionSchema } },
      },
      404: { description: "Nothing published yet" },
    },
  },
  handler: async (c, svc) => {
    const store = storeOf(svc);
    const v = await store.activeVersion();
    const doc = v === undefined ? undefined : await store.version(v);
    if (!doc) throw new ApiError("not_found", "No ruleset has been published yet");
    await recordAudit(c, svc, "read_rules", `read the active ruleset (version ${doc.version})`, doc.version);
    return c.json(doc, 200, { etag: `"${doc.version}"`, "cache-control": "no-store" });
  },
};
