import { z } from "zod";
import { loadRulesetDocument } from "../../../adapters/rules/load.js";
import { failingCaseProblems } from "../../../core/ruleset/index.js";
import { MAX_RULESET_BODY_BYTES } from "../../body.js";
import type { Endpoint } from "../../context.js";
import type { RouterServices } from "../../services.js";
import { recordAudit } from "./rules-audit.js";
import { invalidRuleset, parseBody, ruleProblemErrors, rulesetSchema } from "./rules-shared.js";

export const validateRequestSchema = z
  .strictObject({ ruleset: rulesetSchema })
  .meta({ id: "RulesValidateRequest" });

const validResponse = z
  .object({ valid: z.literal(true), hash: z.string(), warnings: ruleProblemErrors })
  .meta({ example: { valid: true, hash: "590db5e3…", warnings: [] } });

/** `POST /v1/admin/rules/validate`: every problem of a candidate ruleset, publishing nothing. */
export const validateRules: Endpoint<RouterServices> = {
  method: "POST",
  path: "/v1/admin/rules/validate",
  scopes: ["admin"],
  openapi: {
    tags: ["admin: rules"],
    summary: "Validate a candidate ruleset",
    description:
      "200 with warnings when valid; 422 whose `errors` list every problem as `{ file, path, message }`.",
    request: { body: { content: { "application/json": { schema: validateRequestSchema } }, required: true } },
    responses: { 200: { description: "Valid", content: { "application/json": { schema: validResponse } } } },
  },
  handler: async (c, svc) => {
    const { ruleset } = await parseBody(c, validateRequestSchema, MAX_RULESET_BODY_BYTES);
    const loaded = await loadRulesetDocument(ruleset);
    const count = Object.keys(ruleset.files).length;
    if (!loaded.ok) {
      await recordAudit(c, svc, "validate", `invalid: ${loaded.error.length} problem(s) in ${count} file(s)`);
      throw invalidRuleset(loaded.error);
    }
    // Failing tests/*.json cases are warnings here (npm run rules:check fails on them): a rule
    // change often means its cases need updating too, and publishing is ops' call.
    const failing = await failingCaseProblems(loaded.value);
    const warnings = [...loaded.value.warnings, ...failing].map((w) => ({
      file: w.file,
      path: w.path,
      message: w.message,
    }));
    await recordAudit(
      c,
      svc,
      "validate",
      `valid: ${count} file(s), ${warnings.length} warning(s) (${failing.length} failing test case(s)), hash ${loaded.value.hash.slice(0, 12)}`,
    );
    return c.json({ valid: true as const, hash: loaded.value.hash, warnings }, 200);
  },
};
