/**
 * Compiles a condition tree into plain closures (no eval / new Function: it runs on Workers).
 * Like json-rules-engine without condition priorities, every leaf is evaluated (no short-circuit),
 * so the trace is complete and a leaf that throws in the engine throws here too. Each leaf owns a
 * slot in per-decision arrays instead of allocating a trace object; traces are built on demand.
 */

import { err, ok, type Result } from "../result.js";
import { booleanKind, effectiveValue, isFactRef, traceOf } from "./conditions.js";
import { DATE_OPERATORS, dateOperatorWithFixedValue } from "./dates.js";
import { BUILT_IN_OPERATORS, type OperatorFn, resolveOperator } from "./operators.js";
import { parsePath, resolveSegments } from "./path.js";
import type { ConditionLeaf, ConditionNode, ConditionTrace, Facts } from "./types.js";

/** What one decision's leaves produced, indexed by slot. */
export interface EvalState {
  readonly factValues: unknown[];
  readonly results: boolean[];
  readonly valueResults: unknown[];
}

export type NodeEval = (facts: Facts, state: EvalState) => boolean;

export interface CompiledTree {
  readonly evaluate: NodeEval;
  readonly leaves: readonly ConditionLeaf[];
  readonly firstSlot: number;
  /** Whether a leaf compares against a fact reference (and so writes `valueResults`). */
  readonly hasFactRefs: boolean;
  /** Per leaf: its trace's static JSON up to `"value":…` (no closing brace), built once. */
  readonly leafHeads: readonly string[];
  /** Per leaf: whether its trace carries `valueResult` (the value is a fact reference). */
  readonly leafResolved: readonly boolean[];
}

const NO_VALUE_RESULTS: unknown[] = [];

/** Arrays sized up front: growing them leaf by leaf was a large share of a decision's cost. */
export function newEvalState(slots: number, withValueResults: boolean): EvalState {
  return {
    factValues: new Array(slots),
    results: new Array(slots),
    valueResults: withValueResults ? new Array(slots) : NO_VALUE_RESULTS,
  };
}

/** The trace of a compiled tree after it ran with `state`. */
export function treeTrace(tree: CompiledTree, state: EvalState): ConditionTrace[] {
  return tree.leaves.map((leaf, k) => {
    const slot = tree.firstSlot + k;
    return traceOf(leaf, state.factValues[slot], state.results[slot] === true, state.valueResults[slot]);
  });
}

/** `JSON.stringify(treeTrace(tree, state))`, byte for byte, without building the trace objects. */
export function treeTraceJson(tree: CompiledTree, state: EvalState): string {
  const { leafHeads, leafResolved, firstSlot } = tree;
  let out = "[";
  for (let k = 0; k < leafHeads.length; k++) {
    const slot = firstSlot + k;
    const factValue = JSON.stringify(state.factValues[slot]);
    out += `${k === 0 ? "" : ","}${leafHeads[k]}${factValue === undefined ? "" : `,"factValue":${factValue}`},"result":${state.results[slot] === true}`;
    if (leafResolved[k]) {
      const valueResult = JSON.stringify(state.valueResults[slot]);
      if (valueResult !== undefined) out += `,"valueResult":${valueResult}`;
    }
    out += "}";
  }
  return `${out}]`;
}

/** The static head of a leaf's trace JSON: `{"fact":…,"path":…,"operator":…,"value":…` (keys JSON keeps). */
function leafHead(leaf: ConditionLeaf): string {
  const { fact, path, operator, value } = leaf;
  const json = JSON.stringify(
    path === undefined ? { fact, operator, value } : { fact, path, operator, value },
  );
  return json.slice(0, -1);
}

/** Leaves that failed in this run (for nearest misses). */
export function failedLeaves(tree: CompiledTree, state: EvalState): number {
  let failed = 0;
  for (let s = tree.firstSlot; s < tree.firstSlot + tree.leaves.length; s++) if (!state.results[s]) failed++;
  return failed;
}

/** Compiles `node` with leaf slots from `firstSlot`; an error names what only the engine can run. */
export function compileTree(
  node: ConditionNode,
  firstSlot: number,
  operators: ReadonlyMap<string, OperatorFn> = BUILT_IN_OPERATORS,
): Result<CompiledTree, string> {
  const leaves: ConditionLeaf[] = [];
  const visit = (n: unknown): NodeEval | string => {
    if (n === null || typeof n !== "object") return "a condition is not an object";
    const kind = booleanKind(n);
    if (kind === "not") {
      const child = (n as { not: unknown }).not;
      if (Array.isArray(child)) return '"not" cannot be an array';
      const inner = visit(child);
      return typeof inner === "string" ? inner : (f, s) => !inner(f, s);
    }
    if (kind) {
      const list = (n as Record<string, unknown>)[kind];
      if (!Array.isArray(list)) return `"${kind}" must be an array`;
      const children: NodeEval[] = [];
      for (const c of list) {
        const compiled = visit(c);
        if (typeof compiled === "string") return compiled;
        children.push(compiled);
      }
      return combine(kind, children);
    }
    const leaf = compileLeaf(n as ConditionLeaf, firstSlot + leaves.length, operators);
    if (typeof leaf !== "string") leaves.push(n as ConditionLeaf);
    return leaf;
  };
  const evaluate = visit(node);
  if (typeof evaluate === "string") return err(evaluate);
  const leafResolved = leaves.map((leaf) => isFactRef(effectiveValue(leaf)));
  const hasFactRefs = leafResolved.some(Boolean);
  const leafHeads = leaves.map(leafHead);
  return ok({ evaluate, leaves, firstSlot, hasFactRefs, leafHeads, leafResolved });
}

// The engine answers true for an empty all/any, and a lone child's result for a one-child list.
function combine(kind: "all" | "any", children: readonly NodeEval[]): NodeEval {
  if (children.length === 0) return () => true;
  if (children.length === 1) return children[0]!;
  const n = children.length;
  if (kind === "all")
    return (f, s) => {
      let passed = true;
      for (let i = 0; i < n; i++) if (!children[i]!(f, s)) passed = false;
      return passed;
    };
  return (f, s) => {
    let passed = false;
    for (let i = 0; i < n; i++) if (children[i]!(f, s)) passed = true;
    return passed;
  };
}

function compileLeaf(
  leaf: ConditionLeaf,
  slot: number,
  operators: ReadonlyMap<string, OperatorFn>,
): NodeEval | string {
  for (const key of ["fact", "operator", "value"])
    if (!Object.hasOwn(leaf, key)) return `a condition has no "${key}"`;
  if (typeof leaf.fact !== "string" || typeof leaf.operator !== "string")
    return "fact and operator must be strings";
  if (leaf.path !== undefined && typeof leaf.path !== "string") return "path must be a string";
  const resolved = resolveOperator(leaf.operator, operators);
  if (resolved === null) return `unknown operator "${leaf.operator}"`;
  const op = failClosed(resolved);
  const readFact = factReader(leaf.fact, leaf.path);
  const value = effectiveValue(leaf);

  if (isFactRef(value)) {
    if (typeof value.fact !== "string" || (value.path !== undefined && typeof value.path !== "string"))
      return "a fact reference needs a string fact and path";
    const readValue = factReader(value.fact, value.path);
    return (f, s) => {
      const b = readValue(f);
      const a = readFact(f);
      const passed = op(a, b);
      s.factValues[slot] = a;
      s.valueResults[slot] = b;
      s.results[slot] = passed;
      return passed;
    };
  }
  const fixed =
    DATE_OPERATORS.has(leaf.operator) && resolved === BUILT_IN_OPERATORS.get(leaf.operator)
      ? dateOperatorWithFixedValue(leaf.operator, value)
      : (a: unknown) => op(a, value);
  return (f, s) => {
    const a = readFact(f);
    const passed = fixed(a);
    s.factValues[slot] = a;
    s.results[slot] = passed;
    return passed;
  };
}

/**
 * An operator that throws on its operands (json-rules-engine's `in` on a null value, `someValue`
 * on a non-array, a fact reference that is absent for this account) fails its condition instead.
 * The engine would reject the whole run, and with it every route, event and rules test that
 * reaches the rule: one bad condition in a published ruleset then answered 500 to every caller.
 */
function failClosed(op: OperatorFn): OperatorFn {
  return (a, b) => {
    try {
      return op(a, b);
    } catch {
      return false;
    }
  };
}

// The engine's almanac: an absent fact is undefined; a path applies only to a non-null object.
function factReader(name: string, path: string | undefined): (facts: Facts) => unknown {
  const read = (f: Facts): unknown =>
    Object.hasOwn(f, name) ? (f as unknown as Record<string, unknown>)[name] : undefined;
  if (!path) return read;
  const segments = parsePath(path);
  return (f) => {
    const v = read(f);
    return v !== null && typeof v === "object" ? resolveSegments(v, segments) : v;
  };
}
