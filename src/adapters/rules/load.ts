import { handoverMappingSchema } from "../../core/handover/mapping-schema.js";
import type { Result } from "../../core/result.js";
import { loadRuleset, type RuleProblem, type Ruleset, validateRuleset } from "../../core/ruleset/index.js";

/** The one set of validation options every publish, validate and runtime load uses. */
export const RULESET_OPTIONS = { extraSchemas: { "handover-mappings/": handoverMappingSchema } } as const;

/** Validates and builds a `{ files }` document with the service's options. */
export function loadRulesetDocument(doc: unknown): Promise<Result<Ruleset, RuleProblem[]>> {
  return loadRuleset(doc, RULESET_OPTIONS);
}

/** Problems and warnings of a `{ files }` document, without building a decider. */
export function validateRulesetDocument(doc: unknown): { problems: RuleProblem[]; warnings: RuleProblem[] } {
  return validateRuleset(doc, RULESET_OPTIONS);
}

/** One line per problem: `file path: message`, for logs and the CLI. */
export function formatProblems(problems: readonly RuleProblem[]): string {
  return problems.map((p) => `  ${p.file || "(ruleset)"} ${p.path}: ${p.message}`).join("\n");
}
