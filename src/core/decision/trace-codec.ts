/**
 * A compact form of a decision's full trace for decision records. Per rule it keeps only what
 * varies per decision (rule result, each leaf's result, fact value and resolved value); the rule
 * name, priority and each leaf's fact/path/operator/value come back from the routing rules of
 * the ruleset version the record names. Leaves are numbered depth first, the order of every
 * trace (`leavesOf`).
 *
 * One entry per evaluation, in the evaluations' order:
 * `[ruleIndex, result, leafCodes, factValues?, valueResults?]`, where
 * - `ruleIndex` is the rule's position in the routing array it was compacted with;
 * - `result` is 1 or 0;
 * - `leafCodes` has one digit per leaf: its result (0/1), plus 2 when its fact value is absent;
 * - `factValues` holds the present fact values, in leaf order (left out when none);
 * - `valueResults` maps a leaf's number to its resolved value (only leaves comparing against a
 *   fact reference; left out when none).
 * A rule that does not line up with the routing rules is kept whole (a RuleEvaluation object).
 */

import { effectiveValue, isFactRef, leavesOf } from "./conditions.js";
import type { ConditionLeaf, ConditionTrace, RoutingRule, RuleEvaluation } from "./types.js";

export type CompactRule =
  | readonly [number, 0 | 1, string]
  | readonly [number, 0 | 1, string, readonly unknown[]]
  | readonly [number, 0 | 1, string, readonly unknown[], Readonly<Record<string, unknown>>];

/** One compact entry, or a whole evaluation when the rules could not describe it. */
export type CompactEntry = CompactRule | RuleEvaluation;

export type CompactEvaluations = readonly CompactEntry[];

interface RoutingShape {
  readonly byName: ReadonlyMap<string, number>;
  readonly leaves: readonly (readonly ConditionLeaf[] | undefined)[];
  readonly resolved: readonly (readonly boolean[] | undefined)[];
}

const shapes = new WeakMap<readonly RoutingRule[], RoutingShape>();

function shapeOf(routing: readonly RoutingRule[]): RoutingShape {
  let shape = shapes.get(routing);
  if (!shape) {
    const leaves = routing.map((r) => {
      try {
        return leavesOf(r.conditions);
      } catch {
        return undefined; // a malformed tree: its evaluations are kept whole
      }
    });
    shape = {
      byName: new Map(routing.map((r, i) => [r.name, i])),
      leaves,
      resolved: leaves.map((ls) => ls?.map((l) => isFactRef(effectiveValue(l)))),
    };
    shapes.set(routing, shape);
  }
  return shape;
}

/** Whether JSON leaves this value out of an object (so the trace has no `factValue` key). */
function absent(v: unknown): boolean {
  return v === undefined || typeof v === "function" || typeof v === "symbol";
}

/** The compact form of `evaluations`, given the routing rules they were produced from. */
export function compactEvaluations(
  evaluations: readonly RuleEvaluation[],
  routing: readonly RoutingRule[],
): CompactEntry[] {
  const shape = shapeOf(routing);
  const out: CompactEntry[] = new Array(evaluations.length);
  for (let e = 0; e < evaluations.length; e++) {
    const ev = evaluations[e]!;
    const direct = routing[e]?.name === ev.rule ? e : undefined;
    const i = direct ?? shape.byName.get(ev.rule);
    out[e] = (i === undefined ? undefined : compactRule(ev, i, routing[i]!, shape)) ?? ev;
  }
  return out;
}

function compactRule(
  ev: RuleEvaluation,
  i: number,
  rule: RoutingRule,
  shape: RoutingShape,
): CompactRule | undefined {
  const leaves = shape.leaves[i];
  const resolved = shape.resolved[i];
  const { conditions } = ev;
  if (!leaves || !resolved || rule.priority !== ev.priority || leaves.length !== conditions.length)
    return undefined;
  let codes = "";
  const factValues: unknown[] = [];
  let valueResults: Record<string, unknown> | undefined;
  for (let k = 0; k < conditions.length; k++) {
    const c = conditions[k]!;
    const leaf = leaves[k]!;
    if (!sameStatic(c, leaf) || (!resolved[k] && Object.hasOwn(c, "valueResult"))) return undefined;
    const missing = absent(c.factValue);
    codes += (c.result ? 1 : 0) + (missing ? 2 : 0);
    if (!missing) factValues.push(c.factValue);
    if (resolved[k] && !absent(c.valueResult)) {
      valueResults ??= {};
      valueResults[k] = c.valueResult;
    }
  }
  const result = ev.result ? 1 : 0;
  if (valueResults) return [i, result, codes, factValues, valueResults];
  return factValues.length > 0 ? [i, result, codes, factValues] : [i, result, codes];
}

/** The trace's static parts are the leaf's own (the same values, keys present alike). */
function sameStatic(c: ConditionTrace, leaf: ConditionLeaf): boolean {
  return (
    c.fact === leaf.fact &&
    c.operator === leaf.operator &&
    c.path === leaf.path &&
    Object.hasOwn(c, "path") === (leaf.path !== undefined) &&
    (c.value === leaf.value || JSON.stringify(c.value) === JSON.stringify(leaf.value))
  );
}

/**
 * The full evaluations back from their compact form (as parsed from JSON), with `routing` the
 * rules of the version they were compacted with. Returns undefined when they do not fit these
 * rules (a rule index or leaf count that is not there).
 */
export function expandEvaluations(
  compact: CompactEvaluations,
  routing: readonly RoutingRule[],
): RuleEvaluation[] | undefined {
  const shape = shapeOf(routing);
  const out: RuleEvaluation[] = [];
  for (const entry of compact) {
    if (!Array.isArray(entry)) {
      out.push(entry as RuleEvaluation);
      continue;
    }
    const [i, result, codes, factValues = [], valueResults = {}] = entry as readonly [
      number,
      0 | 1,
      string,
      (readonly unknown[])?,
      Readonly<Record<string, unknown>>?,
    ];
    const rule = routing[i];
    const leaves = shape.leaves[i];
    const resolved = shape.resolved[i];
    if (!rule || !leaves || !resolved || typeof codes !== "string" || leaves.length !== codes.length)
      return undefined;
    const conditions: ConditionTrace[] = [];
    let next = 0;
    for (let k = 0; k < leaves.length; k++) {
      const code = codes.charCodeAt(k) - 48;
      const { fact, path, operator, value } = leaves[k]!;
      const passed = (code & 1) === 1;
      const trace: Record<string, unknown> =
        path === undefined ? { fact, operator, value } : { fact, path, operator, value };
      if ((code & 2) === 0) trace.factValue = factValues[next++];
      trace.result = passed;
      if (resolved[k] && Object.hasOwn(valueResults, k)) trace.valueResult = valueResults[k];
      conditions.push(trace as unknown as ConditionTrace);
    }
    out.push({ rule: rule.name, priority: rule.priority, result: result === 1, conditions });
  }
  return out;
}
