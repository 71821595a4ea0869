import { z } from "zod";
import type { Endpoint } from "../../context.js";
import { ApiError } from "../../errors.js";
import type { RouterServices } from "../../services.js";
import { recordAudit } from "./rules-audit.js";
import { limitQuery, storedVersionSchema, storeOf, versionMetaSchema, versionParam } from "./rules-shared.js";

const listSchema = z
  .object({ versions: z.array(versionMetaSchema), nextBefore: z.number().int().nullable() })
  .meta({ id: "RulesetVersionList" });

/** `GET /v1/admin/rules/versions`: published versions, newest first, without their files. */
export const listRuleVersions: Endpoint<RouterServices> = {
  method: "GET",
  path: "/v1/admin/rules/versions",
  scopes: ["admin"],
  openapi: {
    tags: ["admin: rules"],
    summary: "Published ruleset versions, newest first",
    description:
      "Paginate with `?limit` (1–100, default 20) and `?before=<version>` (the previous page's `nextBefore`).",
    request: {
      query: z.object({ limit: z.string().optional(), before: z.string().optional() }),
    },
    responses: {
      200: { description: "One page of versions", content: { "application/json": { schema: listSchema } } },
    },
  },
  handler: async (c, svc) => {
    const limit = limitQuery(c, 20, 100);
    const beforeRaw = c.req.query("before");
    if (beforeRaw !== undefined && !/^\d{1,10}$/.test(beforeRaw)) {
      const errors = [{ path: "before", message: "expected a version number" }];
      throw new ApiError("validation_failed", "before: expected a version number", errors);
    }
    const versions = await storeOf(svc).versions(
      limit,
      beforeRaw === undefined ? undefined : Number(beforeRaw),
    );
    const last = versions[versions.length - 1];
    await recordAudit(c, svc, "list_versions", `listed ${versions.length} ruleset version(s)`);
    return c.json({ versions, nextBefore: versions.length === limit && last ? last.version : null }, 200);
  },
};

/** `GET /v1/admin/rules/versions/:version`: one published version with its files. */
export const getRuleVersion: Endpoint<RouterServices> = {
  method: "GET",
  path: "/v1/admin/rules/versions/:version",
  scopes: ["admin"],
  openapi: {
    tags: ["admin: rules"],
    summary: "One published ruleset version",
    request: { params: z.object({ version: z.string().meta({ example: "12" }) }) },
    responses: {
      200: { description: "The version", content: { "application/json": { schema: storedVersionSchema } } },
      404: { description: "No such version" },
    },
  },
  handler: async (c, svc) => {
    const v = versionParam(c);
    const doc = await storeOf(svc).version(v);
    if (!doc) throw new ApiError("not_found", `No ruleset version ${v}`);
    await recordAudit(c, svc, "read_version", `read ruleset version ${v}`, v);
    return c.json(doc, 200, { etag: `"${doc.version}"`, "cache-control": "no-store" });
  },
};
