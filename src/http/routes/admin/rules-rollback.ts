import { z } from "zod";
import type { Endpoint } from "../../context.js";
import { ApiError } from "../../errors.js";
import type { RouterServices } from "../../services.js";
import {
  activateNow,
  actorOf,
  ifMatchVersion,
  invalidRuleset,
  parseBody,
  storeOf,
  versionResponseSchema,
} from "./rules-shared.js";

export const rollbackRequestSchema = z
  .strictObject({ version: z.number().int().min(1) })
  .meta({ id: "RulesRollbackRequest", example: { version: 11 } });

/** `POST /v1/admin/rules/rollback`: a new version with the content of an earlier one. */
export const rollbackRules: Endpoint<RouterServices> = {
  method: "POST",
  path: "/v1/admin/rules/rollback",
  scopes: ["admin"],
  openapi: {
    tags: ["admin: rules"],
    summary: "Roll back to an earlier version",
    description:
      "Publishes a new version equal to `version` (history is never rewritten). Optional `If-Match` guards against a concurrent publish (409).",
    request: { body: { content: { "application/json": { schema: rollbackRequestSchema } }, required: true } },
    responses: {
      200: {
        description: "The new version",
        content: { "application/json": { schema: versionResponseSchema } },
      },
      404: { description: "No such version" },
    },
  },
  handler: async (c, svc) => {
    const { version } = await parseBody(c, rollbackRequestSchema);
    const expected = ifMatchVersion(c);
    const out = await storeOf(svc).rollback(version, actorOf(c), expected ?? "any");
    if (!out.ok) {
      const e = out.error;
      if (e.kind === "missing") throw new ApiError("not_found", `No ruleset version ${version}`);
      if (e.kind === "invalid") throw invalidRuleset(e.problems);
      throw new ApiError("conflict", `If-Match ${expected} is not the active version (${e.active})`);
    }
    await activateNow(svc);
    return c.json({ version: out.value.version }, 200, { etag: `"${out.value.version}"` });
  },
};
