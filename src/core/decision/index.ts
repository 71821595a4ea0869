/** The decision evaluator: picks a flow for a subject's facts from the routing rules. */
import { compileRules } from "./compile.js";
import { createReferenceDecider } from "./reference.js";
import type { Decider, RoutingRule } from "./types.js";

export interface DeciderOptions {
  /** `compiled` (default): closures, json-rules-engine only for rules they cannot express; `reference`: json-rules-engine. */
  readonly mode?: "compiled" | "reference";
}

/** Builds the Decider for a ruleset; throws only on rules the engine itself refuses (validate first). */
export function createDecider(
  rules: readonly RoutingRule[],
  defaultFlow: string,
  opts: DeciderOptions = {},
): Decider {
  return opts.mode === "reference"
    ? createReferenceDecider(rules, defaultFlow)
    : compileRules(rules, defaultFlow);
}

export { type CompileOptions, compileCondition, compileRules } from "./compile.js";
export { DATE_OPERATORS, isoTime } from "./dates.js";
export { hashToUnit, pickVariant } from "./experiment.js";
export { isKnownOperator, type OperatorFn } from "./operators.js";
export { byPrecedence, DEFAULT_REASON_RULE, NO_MATCH_MESSAGE } from "./outcome.js";
export { parsePath, resolvePath } from "./path.js";
export { createReferenceDecider } from "./reference.js";
export type * from "./types.js";
