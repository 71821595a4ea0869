/**
 * The reference decider: json-rules-engine 7.3.1 itself. It is the semantics the compiled
 * decider must match, and the fallback for rules the compiler cannot handle.
 *
 * A fresh Engine per decision: one Engine shared by concurrent runs lets one run's end flip the
 * engine's status and make another skip rules (and `stop()` makes it worse; see NOTES.md).
 * Every rule is evaluated (no `stop()`, condition priorities dropped), so every leaf has a result.
 */
import { Engine, type RuleProperties, type RuleResult } from "json-rules-engine";
import { booleanKind, effectiveValue, traceOf } from "./conditions.js";
import { BUILT_IN_OPERATORS } from "./operators.js";
import { buildDecision, byPrecedence } from "./outcome.js";
import { resolvePath } from "./path.js";
import type { ConditionLeaf, ConditionNode, ConditionTrace, Decider, Facts, RoutingRule } from "./types.js";

/** One rule's evaluation by the engine. */
export interface RuleRun {
  readonly result: boolean;
  readonly trace: readonly ConditionTrace[];
  readonly failed: number;
}

/** Rules ready to be added to an Engine: named by their position so results map back. */
export type EngineRules = readonly RuleProperties[];

/** Converts rules once; throws (a bug: the ruleset validator should have refused it) if the engine would. */
export function prepareEngineRules(rules: readonly RoutingRule[]): EngineRules {
  const prepared = rules.map(
    (r, i): RuleProperties => ({
      name: i as unknown as string,
      priority: 1,
      conditions: toEngineCondition(r.conditions) as RuleProperties["conditions"],
      event: { type: "route" },
    }),
  );
  newEngine(prepared);
  return prepared;
}

function newEngine(prepared: EngineRules): Engine {
  const engine = new Engine([], { allowUndefinedFacts: true, pathResolver: resolvePath });
  for (const name of ["dateBefore", "dateAfter"]) engine.addOperator(name, BUILT_IN_OPERATORS.get(name)!);
  for (const rule of prepared) engine.addRule(rule);
  return engine;
}

/** Evaluates every rule with a fresh Engine; results in the order of `rules`. */
export async function runWithEngine(
  rules: readonly RoutingRule[],
  prepared: EngineRules,
  facts: Facts,
): Promise<RuleRun[]> {
  const { results, failureResults } = await newEngine(prepared).run(
    facts as unknown as Record<string, unknown>,
  );
  const byPosition: RuleResult[] = [];
  for (const r of [...results, ...failureResults]) byPosition[r.name as unknown as number] = r;
  return rules.map((rule, i) => {
    const trace: ConditionTrace[] = [];
    collectTrace(rule.conditions, byPosition[i]!.conditions, trace);
    return { result: byPosition[i]!.result === true, trace, failed: trace.filter((t) => !t.result).length };
  });
}

/** A Decider backed by json-rules-engine. */
export function createReferenceDecider(rules: readonly RoutingRule[], defaultFlow: string): Decider {
  const ordered = byPrecedence(rules);
  const prepared = prepareEngineRules(ordered);
  return {
    async decide(facts, subjectKey) {
      const runs = await runWithEngine(ordered, prepared, facts);
      const outcomes = {
        passed: (i: number) => runs[i]!.result,
        failedLeaves: (i: number) => runs[i]!.failed,
        trace: (i: number) => runs[i]!.trace,
      };
      return buildDecision(ordered, outcomes, defaultFlow, subjectKey);
    },
  };
}

function toEngineCondition(node: ConditionNode): unknown {
  const kind = booleanKind(node);
  if (kind === "not") return { not: toEngineCondition((node as { not: ConditionNode }).not) };
  if (kind) {
    const children = (node as Record<typeof kind, unknown>)[kind];
    return { [kind]: Array.isArray(children) ? children.map(toEngineCondition) : children };
  }
  const { priority: _dropped, ...leaf } = node as ConditionLeaf & { priority?: unknown };
  return Object.hasOwn(leaf, "value") ? { ...leaf, value: effectiveValue(leaf) } : leaf;
}

type EvaluatedNode = Record<string, unknown> & {
  factResult?: unknown;
  valueResult?: unknown;
  result?: unknown;
};

function collectTrace(node: ConditionNode, evaluated: unknown, out: ConditionTrace[]): void {
  const kind = booleanKind(node);
  const done = evaluated as EvaluatedNode;
  if (kind === "not") collectTrace((node as { not: ConditionNode }).not, done.not, out);
  else if (kind) {
    const children = (node as Record<typeof kind, readonly ConditionNode[]>)[kind];
    const evaluatedChildren = done[kind] as unknown[];
    children.forEach((c, i) => {
      collectTrace(c, evaluatedChildren[i], out);
    });
  } else out.push(traceOf(node as ConditionLeaf, done.factResult, done.result === true, done.valueResult));
}
