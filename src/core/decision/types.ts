/**
 * The decision port shared by the ruleset loader, the route handler and flow branches.
 * Implemented in src/core/decision/*: a compiled fast path, with json-rules-engine as reference.
 */

/** A json-rules-engine condition tree, as written in rules/routing/*.json and in flow branches. */
export type ConditionNode =
  | { readonly all: readonly ConditionNode[] }
  | { readonly any: readonly ConditionNode[] }
  | { readonly not: ConditionNode }
  | ConditionLeaf;

export interface ConditionLeaf {
  readonly fact: string;
  readonly operator: string;
  readonly value: unknown;
  readonly path?: string;
  readonly params?: Readonly<Record<string, unknown>>;
}

export interface ExperimentVariant {
  readonly flow: string;
  readonly weight: number;
}

export type RouteParams =
  | { readonly flow: string }
  | { readonly experiment: string; readonly variants: readonly ExperimentVariant[] };

/** One routing rule with where it came from (used for tie-breaking and error reports). */
export interface RoutingRule {
  readonly name: string;
  readonly priority: number;
  readonly conditions: ConditionNode;
  readonly event: { readonly type: "route"; readonly params: RouteParams };
  /** Relative path of the file it came from, e.g. `routing/segments.json`. */
  readonly file: string;
  /** Position inside that file's `rules` array. */
  readonly index: number;
}

/** The facts every decision sees (CONTRACT.md "Facts"). */
export interface Facts {
  readonly survey: Readonly<Record<string, unknown>>;
  readonly handover?: unknown;
  readonly account: AccountFacts;
  readonly user: { readonly id?: string; readonly role?: string };
  readonly now: string;
}

export interface AccountFacts {
  readonly id: string;
  readonly segment: string;
  readonly revenueTier: string;
  readonly annualValue: number;
  readonly regulated: boolean;
  readonly region: string;
  readonly industry: string;
  readonly tenureDays: number;
  readonly productCount: number;
  readonly handoverGaps: readonly string[];
  readonly hasHandover: boolean;
}

/** One evaluated leaf condition: what was expected, what the fact held, whether it passed. */
export interface ConditionTrace {
  readonly fact: string;
  readonly path?: string;
  readonly operator: string;
  readonly value: unknown;
  readonly factValue: unknown;
  readonly result: boolean;
  /** The resolved right-hand side, present only when `value` is a fact reference (`{ "fact": "now" }`, or `"now"` on a date operator). */
  readonly valueResult?: unknown;
}

/** One rule's evaluation. */
export interface RuleEvaluation {
  readonly rule: string;
  readonly priority: number;
  readonly result: boolean;
  readonly conditions: readonly ConditionTrace[];
}

/** An entry of the public `reasons` array. */
export interface Reason {
  readonly rule: string;
  readonly priority: number;
  readonly conditions: readonly ConditionTrace[];
  /** Human sentence, e.g. for the default flow: "No routing rule matched; the default flow applies." */
  readonly message?: string;
  /** For the default flow: the rules that came closest (fewest failed leaf conditions), best first, at most 3. */
  readonly nearestMisses?: readonly RuleEvaluation[];
  /** Set when the winning rule is an experiment. */
  readonly experiment?: { readonly id: string; readonly variant: string };
}

/** A condition as a public key sees it: its shape, not what the fact held or whether it passed. */
export type ConditionShape = Pick<ConditionTrace, "fact" | "path" | "operator" | "value">;

/** A reason as a public key sees it: rule names and condition shapes only. */
export interface PublicReason extends Omit<Reason, "conditions" | "nearestMisses"> {
  readonly conditions: readonly ConditionShape[];
}

export interface Decision {
  readonly flow: string;
  /** Winning rule name, or null when the default flow applied. */
  readonly rule: string | null;
  readonly experiment?: { readonly id: string; readonly variant: string };
  readonly reasons: readonly Reason[];
  /** Every rule's evaluation (the full trace kept in decision records). */
  readonly evaluations: readonly RuleEvaluation[];
  /**
   * `JSON.stringify(evaluations)`, byte for byte, built without the trace objects where the
   * evaluator can (decision records store it on every first decision). Not enumerable.
   */
  readonly evaluationsJson?: () => string;
}

export interface Decider {
  /** Picks the flow for these facts; `subjectKey` (accountId + userId) seeds experiment assignment. */
  decide(facts: Facts, subjectKey: string): Promise<Decision>;
}

/** A compiled condition tree (for flow `branch` steps). */
export type ConditionEvaluator = (facts: Facts) => {
  readonly result: boolean;
  readonly conditions: readonly ConditionTrace[];
};
