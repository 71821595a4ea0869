/** Reading condition trees the way json-rules-engine does, shared by both evaluators. */

import { DATE_OPERATORS } from "./dates.js";
import type { ConditionLeaf, ConditionNode, ConditionTrace } from "./types.js";

export interface FactRef {
  readonly fact: string;
  readonly path?: string;
}

const NOW: FactRef = { fact: "now" };

/** The engine treats any non-null object with an own `fact` key as a fact reference. */
export function isFactRef(value: unknown): value is FactRef {
  return value !== null && typeof value === "object" && Object.hasOwn(value, "fact");
}

/** The right-hand side evaluators compare against: `"now"` on a date operator means the `now` fact. */
export function effectiveValue(leaf: ConditionLeaf): unknown {
  return leaf.value === "now" && DATE_OPERATORS.has(leaf.operator) ? NOW : leaf.value;
}

/** Which boolean node this is, checked in the engine's order (any, then all, then not). */
export function booleanKind(node: object): "any" | "all" | "not" | undefined {
  if (Object.hasOwn(node, "any")) return "any";
  if (Object.hasOwn(node, "all")) return "all";
  if (Object.hasOwn(node, "not")) return "not";
  return undefined;
}

/** The leaves of a tree, depth first: the order of every trace. */
export function leavesOf(node: ConditionNode): ConditionLeaf[] {
  const out: ConditionLeaf[] = [];
  const walk = (n: ConditionNode): void => {
    const kind = booleanKind(n);
    if (kind === "not") walk((n as { not: ConditionNode }).not);
    else if (kind) for (const c of (n as Record<typeof kind, readonly ConditionNode[]>)[kind]) walk(c);
    else out.push(n as ConditionLeaf);
  };
  walk(node);
  return out;
}

/** One trace entry; `valueResult` only when the value was resolved from a fact. */
export function traceOf(
  leaf: ConditionLeaf,
  factValue: unknown,
  result: boolean,
  valueResult: unknown,
): ConditionTrace {
  const { fact, path, operator, value } = leaf;
  const resolved = isFactRef(effectiveValue(leaf));
  if (path === undefined)
    return resolved
      ? { fact, operator, value, factValue, result, valueResult }
      : { fact, operator, value, factValue, result };
  return resolved
    ? { fact, path, operator, value, factValue, result, valueResult }
    : { fact, path, operator, value, factValue, result };
}
