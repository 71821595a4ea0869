import { createDecider } from "../decision/index.js";
import type { Decider, RoutingRule } from "../decision/types.js";
import { err, ok, type Result } from "../result.js";
import { type AnswersSchema, buildAnswersSchema } from "../survey.js";
import { contentHash } from "./hash.js";
import type { RuleProblem } from "./problems.js";
import type { FlowDefinition, Settings, SurveyDefinition, TestsFile } from "./schemas.js";
import { analyzeRuleset, type ValidateOptions } from "./validate.js";

/** A validated ruleset, ready to decide: built once per published version. */
export interface Ruleset {
  /** Hex SHA-256 of the canonical JSON of `files`. */
  readonly hash: string;
  /** The rule files as loaded (no `schema/`, no `$schema` keys). */
  readonly files: Readonly<Record<string, unknown>>;
  readonly settings: Settings;
  readonly survey: SurveyDefinition;
  readonly answersSchema: AnswersSchema;
  readonly flows: ReadonlyMap<string, FlowDefinition>;
  /** Routing rules in precedence order (priority high→low, file path, position). */
  readonly routing: readonly RoutingRule[];
  readonly decider: Decider;
  readonly tests: readonly { readonly file: string; readonly data: TestsFile }[];
  readonly warnings: readonly RuleProblem[];
}

/** Validates a `{ files }` document and builds its decider; every problem at once when it is invalid. */
export async function loadRuleset(
  doc: unknown,
  options: ValidateOptions = {},
): Promise<Result<Ruleset, RuleProblem[]>> {
  const a = analyzeRuleset(doc, options);
  if (a.problems.length > 0 || !a.settings || !a.survey) return err(a.problems);
  let decider: Decider;
  try {
    decider = createDecider(a.routing, a.settings.defaultFlow);
  } catch (e) {
    return err([
      { file: "routing/", path: "$", message: `the rules engine refused the rules: ${(e as Error).message}` },
    ]);
  }
  return ok({
    hash: await contentHash(a.files),
    files: a.files,
    settings: a.settings,
    survey: a.survey,
    answersSchema: buildAnswersSchema(a.survey),
    flows: a.flows,
    routing: a.routing,
    decider,
    tests: a.tests,
    warnings: a.warnings,
  });
}
