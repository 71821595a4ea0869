import { z } from "zod";
import { loadRulesetDocument } from "../../../adapters/rules/load.js";
import { MAX_RULESET_BODY_BYTES } from "../../body.js";
import type { Endpoint } from "../../context.js";
import { ApiError } from "../../errors.js";
import type { RouterServices } from "../../services.js";
import {
  activateNow,
  actorOf,
  ifMatchVersion,
  invalidRuleset,
  parseBody,
  rulesetSchema,
  storeOf,
  versionResponseSchema,
} from "./rules-shared.js";

export const publishRequestSchema = z
  .strictObject({ ruleset: rulesetSchema, message: z.string().min(1).max(500) })
  .meta({ id: "RulesPublishRequest" });

/** `PUT /v1/admin/rules`: publish a new version if `If-Match` names the active one; all or nothing. */
export const publishRules: Endpoint<RouterServices> = {
  method: "PUT",
  path: "/v1/admin/rules",
  scopes: ["admin"],
  openapi: {
    tags: ["admin: rules"],
    summary: "Publish a new ruleset version",
    description:
      'Send `If-Match` with the active version (bare `3` or `"3"`). 409 when it is missing or not the active version; 422 with every problem when the ruleset is invalid. On any error the active ruleset is unchanged. Every process uses the new version within a second.',
    request: {
      headers: z.object({ "if-match": z.string().meta({ example: '"12"' }) }),
      body: { content: { "application/json": { schema: publishRequestSchema } }, required: true },
    },
    responses: {
      200: { description: "Published", content: { "application/json": { schema: versionResponseSchema } } },
      409: { description: "If-Match is missing or not the active version (nothing published)" },
    },
  },
  handler: async (c, svc) => {
    const body = await parseBody(c, publishRequestSchema, MAX_RULESET_BODY_BYTES);
    const expected = ifMatchVersion(c);
    if (expected === undefined)
      throw new ApiError(
        "conflict",
        'If-Match is required: send the active version from GET /v1/admin/rules (ETag), e.g. If-Match: "12"',
      );
    const store = storeOf(svc);
    const loaded = await loadRulesetDocument(body.ruleset);
    if (!loaded.ok) {
      await store.audit(
        {
          at: svc.clock.now().toISOString(),
          actor: actorOf(c),
          action: "publish_refused",
          summary: `invalid: ${loaded.error.length} problem(s) — ${body.message}`,
        },
        true,
      );
      throw invalidRuleset(loaded.error);
    }
    const out = await store.publish({
      files: loaded.value.files,
      loaded: loaded.value,
      message: body.message,
      author: actorOf(c),
      source: "api",
      expected,
    });
    if (!out.ok) {
      const active = out.error.kind === "stale" ? out.error.active : 0;
      await store.audit(
        {
          at: svc.clock.now().toISOString(),
          actor: actorOf(c),
          action: "publish_refused",
          version: active,
          summary: `stale If-Match ${expected} (active ${active}) — ${body.message}`,
        },
        true,
      );
      throw new ApiError(
        "conflict",
        `If-Match ${expected} is not the active version (${active}); reload the rules and try again`,
      );
    }
    await activateNow(svc);
    return c.json({ version: out.value.version }, 200, { etag: `"${out.value.version}"` });
  },
};
