/**
 * Condition operators, replicating json-rules-engine 7.3.1 exactly (dist/engine-default-operators.js,
 * operator.js, operator-decorator.js): an operator passes when its fact-value validator passes and
 * then its callback does. `in`/`notIn` call `value.indexOf(factValue)`, so a string value does a
 * substring search and a null/number value throws, as in the engine. Compiled conditions fail such
 * a condition instead of the whole decision (compile-tree.ts `failClosed`).
 */
import { dateAfter, dateBefore } from "./dates.js";

export type OperatorFn = (factValue: unknown, value: unknown) => boolean;

type Indexable = { indexOf(x: unknown): number };
type Decorator = (factValue: unknown, value: unknown, next: OperatorFn) => boolean;

const numeric = (a: unknown): boolean => Number.parseFloat(a as string).toString() !== "NaN";

/** The engine's built-in operators plus the two date operators registered on it. */
export const BUILT_IN_OPERATORS: ReadonlyMap<string, OperatorFn> = new Map<string, OperatorFn>([
  ["equal", (a, b) => a === b],
  ["notEqual", (a, b) => a !== b],
  ["in", (a, b) => (b as Indexable).indexOf(a) > -1],
  ["notIn", (a, b) => (b as Indexable).indexOf(a) === -1],
  ["contains", (a, b) => Array.isArray(a) && a.indexOf(b) > -1],
  ["doesNotContain", (a, b) => Array.isArray(a) && a.indexOf(b) === -1],
  ["lessThan", (a, b) => numeric(a) && (a as number) < (b as number)],
  ["lessThanInclusive", (a, b) => numeric(a) && (a as number) <= (b as number)],
  ["greaterThan", (a, b) => numeric(a) && (a as number) > (b as number)],
  ["greaterThanInclusive", (a, b) => numeric(a) && (a as number) >= (b as number)],
  ["dateBefore", dateBefore],
  ["dateAfter", dateAfter],
]);

/** The engine's operator decorators (`someFact:equal`, `not:in`, ...), validator first. */
const DECORATORS: ReadonlyMap<string, { validate: (a: unknown) => boolean; apply: Decorator }> = new Map([
  ["someFact", { validate: Array.isArray, apply: (a, b, next) => (a as unknown[]).some((x) => next(x, b)) }],
  ["someValue", { validate: always, apply: (a, b, next) => (b as unknown[]).some((y) => next(a, y)) }],
  [
    "everyFact",
    { validate: Array.isArray, apply: (a, b, next) => (a as unknown[]).every((x) => next(x, b)) },
  ],
  ["everyValue", { validate: always, apply: (a, b, next) => (b as unknown[]).every((y) => next(a, y)) }],
  ["swap", { validate: always, apply: (a, b, next) => next(b, a) }],
  ["not", { validate: always, apply: (a, b, next) => !next(a, b) }],
] satisfies [string, { validate: (a: unknown) => boolean; apply: Decorator }][]);

function always(): boolean {
  return true;
}

/**
 * Looks an operator up the way json-rules-engine's OperatorMap.get does: an exact name first,
 * else peel `decorator:` prefixes off the front. Null for an unknown operator or decorator.
 */
export function resolveOperator(
  name: string,
  table: ReadonlyMap<string, OperatorFn> = BUILT_IN_OPERATORS,
): OperatorFn | null {
  const exact = table.get(name);
  if (exact !== undefined) return exact;
  const colon = name.indexOf(":");
  if (colon <= 0) return null;
  const decorator = DECORATORS.get(name.slice(0, colon));
  const inner = decorator && resolveOperator(name.slice(colon + 1), table);
  if (!decorator || !inner) return null;
  const { validate, apply } = decorator;
  return (a, b) => validate(a) && apply(a, b, inner);
}

/** Whether rules may use this operator (for ruleset validation). */
export function isKnownOperator(name: string): boolean {
  return resolveOperator(name) !== null;
}
