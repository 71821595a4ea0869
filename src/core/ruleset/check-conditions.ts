import { isKnownOperator } from "../decision/operators.js";
import type { ConditionLeaf, ConditionNode } from "../decision/types.js";
import { forEachLeaf, KNOWN_OPERATORS } from "./conditions.js";
import { resolvePath, type Shape } from "./fact-shapes.js";
import { jsonPath, type RuleProblem } from "./problems.js";

const NUMERIC = new Set(["lessThan", "lessThanInclusive", "greaterThan", "greaterThanInclusive"]);
const DATES = new Set(["dateBefore", "dateAfter"]);

type Sink = { problems: RuleProblem[]; warnings: RuleProblem[] };

const isFactRef = (v: unknown): v is { fact: string; path?: unknown } =>
  typeof v === "object" &&
  v !== null &&
  !Array.isArray(v) &&
  typeof (v as { fact?: unknown }).fact === "string";

/** Checks every leaf of a condition tree: known fact, path that exists, known operator; evident type mismatches warn. */
export function checkConditions(
  node: ConditionNode,
  file: string,
  base: readonly PropertyKey[],
  facts: ReadonlyMap<string, Shape>,
  sink: Sink,
): void {
  forEachLeaf(node, (leaf, rel) => {
    const at = [...base, ...rel];
    const factShape = resolveFact(leaf.fact, leaf.path, file, at, facts, sink);
    if (!isKnownOperator(leaf.operator)) {
      sink.problems.push({
        file,
        path: jsonPath([...at, "operator"]),
        message: `unknown operator "${leaf.operator}"; known: ${KNOWN_OPERATORS.join(", ")} (and decorated forms such as not:in)`,
      });
      return;
    }
    const unusable = unusableValue(leaf);
    if (unusable) {
      sink.problems.push({ file, path: jsonPath([...at, "value"]), message: unusable });
      return;
    }
    let valueShape: Shape | undefined;
    if (leaf.value === "now" && DATES.has(leaf.operator)) valueShape = facts.get("now");
    else if (isFactRef(leaf.value)) {
      const refPath = typeof leaf.value.path === "string" ? leaf.value.path : undefined;
      valueShape = resolveFact(leaf.value.fact, refPath, file, [...at, "value"], facts, sink);
    }
    if (!factShape) return;
    const mismatch = typeMismatch(leaf, factShape, valueShape);
    if (mismatch) sink.warnings.push({ file, path: jsonPath(at), message: mismatch });
  });
}

/**
 * A literal value the operator cannot work with at all: json-rules-engine throws on it (`in` on
 * null calls `null.indexOf`), so the condition could never pass for anyone. Refused rather than
 * warned: at run time such a condition just fails (compile-tree.ts `failClosed`).
 */
function unusableValue(leaf: ConditionLeaf): string | null {
  if (isFactRef(leaf.value)) return null;
  const parts = leaf.operator.split(":");
  const base = parts[parts.length - 1];
  const listDecorator = parts.slice(0, -1).find((d) => d === "someValue" || d === "everyValue");
  if (listDecorator && !Array.isArray(leaf.value))
    return `${leaf.operator} needs an array value (${listDecorator} goes through its items), got ${JSON.stringify(leaf.value)}`;
  const inList = (base === "in" || base === "notIn") && !listDecorator;
  if (inList && !Array.isArray(leaf.value) && typeof leaf.value !== "string")
    return `${leaf.operator} needs an array value, got ${JSON.stringify(leaf.value)}`;
  return null;
}

function resolveFact(
  fact: string,
  path: string | undefined,
  file: string,
  at: readonly PropertyKey[],
  facts: ReadonlyMap<string, Shape>,
  sink: Sink,
): Shape | undefined {
  const shape = facts.get(fact);
  if (!shape) {
    sink.problems.push({
      file,
      path: jsonPath([...at, "fact"]),
      message: `unknown fact "${fact}"; facts: ${[...facts.keys()].join(", ")}`,
    });
    return undefined;
  }
  if (path === undefined) return shape;
  const resolved = resolvePath(shape, path);
  if (!resolved.ok) {
    sink.problems.push({
      file,
      path: jsonPath([...at, "path"]),
      message: `fact ${fact}: ${resolved.message}`,
    });
    return undefined;
  }
  return resolved.shape;
}

const describe = (s: Shape) => (s.kind === "string" && s.values ? `one of ${s.values.join(", ")}` : s.kind);

/** A sentence when the operator evidently cannot work on this fact/value, else null. */
function typeMismatch(leaf: ConditionLeaf, fact: Shape, valueShape: Shape | undefined): string | null {
  const { operator: op, value } = leaf;
  const what = `${leaf.fact}${leaf.path ? ` ${leaf.path}` : ""}`;
  if (fact.kind === "any" || op.includes(":")) return null;
  const literal = valueShape === undefined;
  if (NUMERIC.has(op)) {
    if (fact.kind !== "number") return `${op} compares numbers but ${what} is ${describe(fact)}`;
    if (literal && typeof value !== "number")
      return `${op} compares numbers but the value is ${JSON.stringify(value)}`;
    return null;
  }
  if (DATES.has(op)) {
    if (fact.kind !== "date" && fact.kind !== "string")
      return `${op} compares dates but ${what} is ${describe(fact)}`;
    if (literal && (typeof value !== "string" || Number.isNaN(Date.parse(value))))
      return `${op} needs an ISO 8601 date value, got ${JSON.stringify(value)}`;
    return null;
  }
  if (op === "contains" || op === "doesNotContain") {
    if (fact.kind !== "array")
      return `${op} works on arrays but ${what} is ${describe(fact)}; use equal or in`;
    return literal ? scalarMismatch(op, fact.items, value) : null;
  }
  if (op === "in" || op === "notIn") {
    if (fact.kind === "array" || fact.kind === "object")
      return `${op} needs a single value but ${what} is ${fact.kind}; use contains`;
    if (!literal) return null;
    if (!Array.isArray(value)) return `${op} needs an array value, got ${JSON.stringify(value)}`;
    for (const v of value) {
      const m = scalarMismatch(op, fact, v);
      if (m) return m;
    }
    return null;
  }
  // equal / notEqual
  if (fact.kind === "array" || fact.kind === "object")
    return `${op} compares single values but ${what} is ${fact.kind}${fact.kind === "array" ? "; use contains" : ""}`;
  return literal ? scalarMismatch(op, fact, value) : null;
}

function scalarMismatch(op: string, fact: Shape, value: unknown): string | null {
  const expected = fact.kind === "date" ? "string" : fact.kind;
  if (expected === "any" || expected === "array" || expected === "object") return null;
  if (typeof value !== expected)
    return `${op} with ${JSON.stringify(value)} can never match a ${describe(fact)} fact`;
  if (fact.kind === "string" && fact.values && !fact.values.includes(value as string))
    return `${op} with ${JSON.stringify(value)}: the fact is ${describe(fact)}`;
  return null;
}
