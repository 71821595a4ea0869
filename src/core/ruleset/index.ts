/** Rule files CS ops edit: schemas, validation, loading. */
export { CONDITIONS_JSON_SCHEMA, ConditionsSchema, KNOWN_OPERATORS } from "./conditions.js";
export { parseDuration } from "./duration.js";
export { ACCOUNT_SHAPE, factShapes, HANDOVER_SHAPE, resolvePath, type Shape } from "./fact-shapes.js";
export { canonicalJson, contentHash } from "./hash.js";
export { loadRuleset, type Ruleset } from "./load.js";
export { jsonPath, type RuleProblem } from "./problems.js";
export { byPrecedence, evidentlyImplies, findShadowedRules } from "./reachability.js";
export {
  type CaseResult,
  DEFAULT_TEST_NOW,
  decideCase,
  failingCaseProblems,
  runRuleTests,
  subjectKey,
} from "./run-tests.js";
export * from "./schemas.js";
export {
  analyzeRuleset,
  normalizeDocument,
  type RulesetAnalysis,
  type RulesetDocument,
  type ValidateOptions,
  validateRuleset,
} from "./validate.js";
