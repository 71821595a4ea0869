/**
 * Rule suggestions: where one flow clearly beats the flow a segment mostly gets, propose a
 * routing rule sending that segment to the winner, as a candidate ruleset an operator runs
 * through simulate → backtest → publish. Nothing here changes routing.
 */
import type { FlowSegmentFigures } from "./report.js";
import { type ProportionTest, twoProportionTest } from "./stats.js";

/** The file suggested rules go into (created when missing). */
export const SUGGESTED_RULES_FILE = "routing/90-suggested.json";

export interface SuggestionOptions {
  /** Minimum instances started per flow to compare (default 30). */
  readonly minSamples?: number;
  /** Significance level of the two-proportion test (default 0.05). */
  readonly alpha?: number;
  /** Minimum completion-rate lift (absolute, default 0.05). */
  readonly minLift?: number;
}

export interface RoutingRuleView {
  readonly name: string;
  readonly priority: number;
}

export interface CandidateRule {
  readonly name: string;
  readonly description: string;
  readonly priority: number;
  readonly conditions: {
    readonly all: readonly [{ fact: "account"; path: "$.segment"; operator: "equal"; value: string }];
  };
  readonly event: { readonly type: "route"; readonly params: { readonly flow: string } };
}

export interface Suggestion {
  readonly id: string;
  readonly segment: string;
  /** the flow the segment mostly gets now */
  readonly current: { readonly flow: string; readonly started: number; readonly completionRate: number };
  readonly suggested: { readonly flow: string; readonly started: number; readonly completionRate: number };
  readonly test: ProportionTest;
  readonly rule: CandidateRule;
  /** Only the files this suggestion adds or changes. */
  readonly diff: { readonly files: Record<string, unknown> };
  /** The whole candidate ruleset (active files + the diff), ready for simulate/backtest/publish. */
  readonly ruleset: { readonly files: Record<string, unknown> };
}

const ID_MAX = 64;

/** `suggested-<segment>-<flow>` cut to the id pattern's 64 characters. */
export function suggestedRuleName(segment: string, flow: string): string {
  return `suggested-${segment}-${flow}`.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, ID_MAX);
}

/**
 * Proposes at most one rule per segment: the flow with the best completion rate, when it beats
 * the most-started flow of that segment significantly and by at least `minLift`. Its priority is
 * one above the highest rule that routed the segment to the current flow (`rulesBySegmentFlow`),
 * so rules that routed other flows above it (compliance, roles) keep precedence.
 */
export function suggestRules(input: {
  readonly figures: readonly FlowSegmentFigures[];
  /** `segment\u0000flow` → names of the rules that made those decisions (null = the default flow) */
  readonly rulesBySegmentFlow: ReadonlyMap<string, ReadonlySet<string | null>>;
  readonly routing: readonly RoutingRuleView[];
  readonly files: Readonly<Record<string, unknown>>;
  readonly options?: SuggestionOptions;
}): Suggestion[] {
  const minSamples = input.options?.minSamples ?? 30;
  const alpha = input.options?.alpha ?? 0.05;
  const minLift = input.options?.minLift ?? 0.05;
  const priorityOf = new Map(input.routing.map((r) => [r.name, r.priority]));
  const bySegment = new Map<string, FlowSegmentFigures[]>();
  for (const f of input.figures) {
    if (f.started < minSamples || f.segment === "unknown") continue;
    bySegment.set(f.segment, [...(bySegment.get(f.segment) ?? []), f]);
  }
  const out: Suggestion[] = [];
  for (const [segment, flows] of [...bySegment].sort(([a], [b]) => a.localeCompare(b))) {
    if (flows.length < 2) continue;
    const current = [...flows].sort((a, b) => b.started - a.started || a.flow.localeCompare(b.flow))[0]!;
    const best = [...flows].sort(
      (a, b) => (b.completionRate ?? 0) - (a.completionRate ?? 0) || a.flow.localeCompare(b.flow),
    )[0]!;
    if (best.flow === current.flow) continue;
    const test = twoProportionTest(
      { successes: current.completed, n: current.started },
      { successes: best.completed, n: best.started },
      alpha,
      minSamples,
    );
    if (!test.significant || test.diff < minLift) continue;
    const routedBy = input.rulesBySegmentFlow.get(`${segment}\u0000${current.flow}`) ?? new Set([null]);
    const top = Math.max(0, ...[...routedBy].map((r) => (r === null ? 0 : (priorityOf.get(r) ?? 0))));
    const name = suggestedRuleName(segment, best.flow);
    const rule: CandidateRule = {
      name,
      description: `Suggested from outcomes: ${segment} completes ${pct(best.completionRate)} on ${best.flow} vs ${pct(current.completionRate)} on ${current.flow} (n=${best.started}/${current.started}, p=${test.p.toPrecision(2)}).`,
      priority: top + 1,
      conditions: { all: [{ fact: "account", path: "$.segment", operator: "equal", value: segment }] },
      event: { type: "route", params: { flow: best.flow } },
    };
    const existing = input.files[SUGGESTED_RULES_FILE] as { rules?: unknown[] } | undefined;
    const kept = (existing?.rules ?? []).filter((r) => (r as { name?: unknown }).name !== name);
    const file = { ...(existing ?? {}), rules: [...kept, rule] };
    out.push({
      id: name,
      segment,
      current: { flow: current.flow, started: current.started, completionRate: current.completionRate ?? 0 },
      suggested: { flow: best.flow, started: best.started, completionRate: best.completionRate ?? 0 },
      test,
      rule,
      diff: { files: { [SUGGESTED_RULES_FILE]: file } },
      ruleset: { files: { ...input.files, [SUGGESTED_RULES_FILE]: file } },
    });
  }
  return out;
}

const pct = (r: number | null) => `${Math.round((r ?? 0) * 100)}%`;

/** `segment\u0000flow` → the rules whose decisions sent that segment to that flow (null = default). */
export function rulesBySegmentFlow(
  events: Iterable<{
    readonly type: string;
    readonly segment?: string;
    readonly flow: string;
    readonly rule?: string;
  }>,
): Map<string, Set<string | null>> {
  const out = new Map<string, Set<string | null>>();
  for (const e of events) {
    if (e.type !== "decision" && e.type !== "rerouted") continue;
    const key = `${e.segment ?? "unknown"}\u0000${e.flow}`;
    let s = out.get(key);
    if (!s) {
      s = new Set();
      out.set(key, s);
    }
    s.add(e.rule ?? null);
  }
  return out;
}
