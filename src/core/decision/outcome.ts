/** Turning per-rule results into a Decision: precedence, experiments, the default flow. */
import { pickVariant } from "./experiment.js";
import type { ConditionTrace, Decision, Reason, RoutingRule, RuleEvaluation } from "./types.js";

/** The `rule` of the reason given when no rule matched. */
export const DEFAULT_REASON_RULE = "(default)";
export const NO_MATCH_MESSAGE = "No routing rule matched; the default flow applies.";
const NEAREST_MISSES = 3;

/** What an evaluator knows about each rule, by position in precedence order. */
export interface RuleOutcomes {
  passed(i: number): boolean;
  failedLeaves(i: number): number;
  trace(i: number): readonly ConditionTrace[];
  /** `JSON.stringify(trace(i))` built without the trace objects, when the evaluator can. */
  traceJson?(i: number): string | undefined;
}

/** `{"rule":…,"priority":…,"result":` of each rule, cached per rules array (one per ruleset). */
const ruleHeads = new WeakMap<readonly RoutingRule[], string[]>();

function headsOf(rules: readonly RoutingRule[]): string[] {
  let heads = ruleHeads.get(rules);
  if (!heads) {
    heads = rules.map((r) => {
      const json = JSON.stringify({ rule: r.name, priority: r.priority, result: false });
      return json.slice(0, json.length - "false}".length);
    });
    ruleHeads.set(rules, heads);
  }
  return heads;
}

/** Highest priority first; equal priority: the file that sorts first, then the earlier index. */
export function byPrecedence(rules: readonly RoutingRule[]): RoutingRule[] {
  return [...rules].sort(
    (a, b) =>
      b.priority - a.priority || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.index - b.index,
  );
}

/** Builds the decision; `rules` must be in precedence order. Full evaluations are built on first read. */
export function buildDecision(
  rules: readonly RoutingRule[],
  outcomes: RuleOutcomes,
  defaultFlow: string,
  subjectKey: string,
): Decision {
  const traces: (readonly ConditionTrace[] | undefined)[] = [];
  const trace = (i: number): readonly ConditionTrace[] => (traces[i] ??= outcomes.trace(i));
  const evaluation = (i: number): RuleEvaluation => {
    const r = rules[i]!;
    return { rule: r.name, priority: r.priority, result: outcomes.passed(i), conditions: trace(i) };
  };
  let evaluations: readonly RuleEvaluation[] | undefined;
  const evaluationsJson = (): string => {
    if (evaluations || !outcomes.traceJson) return JSON.stringify(evaluations ?? all());
    const heads = headsOf(rules);
    let out = "[";
    for (let i = 0; i < rules.length; i++) {
      const conditions = traces[i] ? undefined : outcomes.traceJson(i);
      out += `${i === 0 ? "" : ","}${heads[i]}${outcomes.passed(i)},"conditions":${conditions ?? JSON.stringify(trace(i))}}`;
    }
    return `${out}]`;
  };
  const all = (): readonly RuleEvaluation[] => (evaluations ??= rules.map((_, i) => evaluation(i)));
  const withEvaluations = <T extends object>(fields: T): T & Pick<Decision, "evaluations"> =>
    Object.defineProperties(fields, {
      evaluations: { get: all, enumerable: true },
      evaluationsJson: { value: evaluationsJson, enumerable: false },
    }) as T & Pick<Decision, "evaluations">;

  let winner = -1;
  for (let i = 0; i < rules.length; i++) {
    if (outcomes.passed(i)) {
      winner = i;
      break;
    }
  }
  if (winner < 0) {
    const nearestMisses = nearest(rules.length, outcomes).map(evaluation);
    const reason: Reason = {
      rule: DEFAULT_REASON_RULE,
      priority: 0,
      conditions: [],
      message: NO_MATCH_MESSAGE,
      nearestMisses,
    };
    return withEvaluations({ flow: defaultFlow, rule: null, reasons: [reason] });
  }

  const rule = rules[winner]!;
  const params = rule.event.params;
  const base = { rule: rule.name, priority: rule.priority, conditions: trace(winner) };
  if (!("experiment" in params)) {
    return withEvaluations({ flow: params.flow, rule: rule.name, reasons: [base] });
  }
  const variant = pickVariant(params.experiment, subjectKey, params.variants);
  const flow = variant?.flow ?? defaultFlow;
  const experiment = { id: params.experiment, variant: flow };
  return withEvaluations({ flow, rule: rule.name, experiment, reasons: [{ ...base, experiment }] });
}

/** Positions of the rules with the fewest failed leaves, ties in precedence order. */
function nearest(count: number, outcomes: RuleOutcomes): number[] {
  const failed = Array.from({ length: count }, (_, i) => outcomes.failedLeaves(i));
  return failed
    .map((_, i) => i)
    .sort((a, b) => failed[a]! - failed[b]! || a - b)
    .slice(0, NEAREST_MISSES);
}
