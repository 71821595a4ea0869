/**
 * The compiled decider: each rule's conditions become closures at load time, so a decision is a
 * few hundred function calls and no promises. A rule the compiler cannot handle (an unknown
 * operator, a malformed tree) is evaluated by json-rules-engine instead, so results never differ.
 */

import {
  type CompiledTree,
  compileTree,
  type EvalState,
  failedLeaves,
  newEvalState,
  treeTrace,
  treeTraceJson,
} from "./compile-tree.js";
import { booleanKind } from "./conditions.js";
import { BUILT_IN_OPERATORS, type OperatorFn } from "./operators.js";
import { buildDecision, byPrecedence, type RuleOutcomes } from "./outcome.js";
import { prepareEngineRules, type RuleRun, runWithEngine } from "./reference.js";
import type { ConditionEvaluator, ConditionNode, Decider, Decision, Facts, RoutingRule } from "./types.js";

export interface CompileOptions {
  /** Test hook: replace an operator's compiled implementation (the reference is untouched). */
  readonly operatorOverrides?: Readonly<Record<string, OperatorFn>>;
}

/** Compiles routing rules into a Decider with json-rules-engine's semantics. */
export function compileRules(
  rules: readonly RoutingRule[],
  defaultFlow: string,
  options: CompileOptions = {},
): Decider {
  const ordered = byPrecedence(rules);
  const operators = operatorTable(options);
  const trees: (CompiledTree | undefined)[] = [];
  const fallback: number[] = [];
  let nextSlot = 0;
  ordered.forEach((rule, i) => {
    // The engine refuses a rule whose root is a bare leaf; leave that refusal to it.
    const compiled = booleanKind(rule.conditions)
      ? compileTree(rule.conditions, nextSlot, operators)
      : undefined;
    if (compiled?.ok) {
      trees[i] = compiled.value;
      nextSlot += compiled.value.leaves.length;
    } else fallback.push(i);
  });
  const fallbackRules = fallback.map((i) => ordered[i]!);
  const withValueResults = trees.some((t) => t?.hasFactRefs);
  const prepared = prepareEngineRules(fallbackRules);

  const finish = (
    state: EvalState,
    passed: boolean[],
    runs: RuleRun[] | undefined,
    key: string,
  ): Decision => {
    const runOf = (i: number): RuleRun | undefined => (runs ? runs[fallback.indexOf(i)] : undefined);
    const outcomes: RuleOutcomes = {
      passed: (i) => passed[i] ?? runOf(i)!.result,
      failedLeaves: (i) => (trees[i] ? failedLeaves(trees[i], state) : runOf(i)!.failed),
      trace: (i) => (trees[i] ? treeTrace(trees[i], state) : runOf(i)!.trace),
      traceJson: (i) => (trees[i] ? treeTraceJson(trees[i], state) : undefined),
    };
    return buildDecision(ordered, outcomes, defaultFlow, key);
  };

  return {
    decide(facts: Facts, subjectKey: string): Promise<Decision> {
      const state = newEvalState(nextSlot, withValueResults);
      const passed: boolean[] = new Array(ordered.length);
      try {
        for (let i = 0; i < ordered.length; i++) {
          const tree = trees[i];
          if (tree) passed[i] = tree.evaluate(facts, state);
        }
        if (fallback.length === 0) return Promise.resolve(finish(state, passed, undefined, subjectKey));
      } catch (e) {
        return Promise.reject(e);
      }
      return runWithEngine(fallbackRules, prepared, facts).then((runs) =>
        finish(state, passed, runs, subjectKey),
      );
    },
  };
}

/** Compiles one condition tree (a flow `branch`); throws on an unknown operator or a malformed tree. */
export function compileCondition(node: ConditionNode): ConditionEvaluator {
  const compiled = compileTree(node, 0);
  if (!compiled.ok) throw new Error(`Cannot compile condition: ${compiled.error}`);
  const tree = compiled.value;
  return (facts) => {
    const state = newEvalState(tree.leaves.length, tree.hasFactRefs);
    const result = tree.evaluate(facts, state);
    return { result, conditions: treeTrace(tree, state) };
  };
}

function operatorTable(options: CompileOptions): ReadonlyMap<string, OperatorFn> {
  const overrides = options.operatorOverrides;
  if (!overrides) return BUILT_IN_OPERATORS;
  return new Map([...BUILT_IN_OPERATORS, ...Object.entries(overrides)]);
}
