/**
 * The `dateBefore` / `dateAfter` operators: both sides are ISO 8601 strings, a date
 * (`2024-05-01`) or a date-time (`2024-05-01T10:00:00Z`, `…+02:00`). A date-time without
 * an offset is read as UTC so results do not depend on the host's time zone. Any other
 * value (not a string, another format, an impossible date) makes the condition false.
 * The literal value `"now"` means the `now` fact; normalisation turns it into the fact
 * reference `{ "fact": "now" }` before either evaluator sees it.
 */

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?$/;

export const DATE_OPERATORS: ReadonlySet<string> = new Set(["dateBefore", "dateAfter"]);

// Many rules read the same date fact in one decision; parsing is the costly part of a date leaf.
const parsedTimes = new Map<string, number>();

/** Epoch milliseconds of an ISO 8601 date or date-time, NaN for anything else. */
export function isoTime(value: unknown): number {
  if (typeof value !== "string") return Number.NaN;
  const known = parsedTimes.get(value);
  if (known !== undefined) return known;
  const time = parseIso(value);
  if (parsedTimes.size >= 1_000) parsedTimes.clear();
  parsedTimes.set(value, time);
  return time;
}

function parseIso(value: string): number {
  if (ISO_DATE.test(value)) return checkedParse(value, `${value}T00:00:00Z`);
  const m = ISO_DATE_TIME.exec(value);
  if (m === null) return Number.NaN;
  return checkedParse(value, m[1] === undefined ? `${value}Z` : value);
}

// Date.parse rolls 2024-02-30 over to March; refuse dates whose calendar day does not exist.
function checkedParse(original: string, text: string): number {
  const t = Date.parse(text);
  if (Number.isNaN(t)) return t;
  const [y, mo, d] = [original.slice(0, 4), original.slice(5, 7), original.slice(8, 10)].map(Number);
  const probe = new Date(Date.UTC(y!, mo! - 1, d!));
  return probe.getUTCFullYear() === y && probe.getUTCMonth() === mo! - 1 && probe.getUTCDate() === d
    ? t
    : Number.NaN;
}

export const dateBefore = (factValue: unknown, value: unknown): boolean => {
  const a = isoTime(factValue);
  const b = isoTime(value);
  return a < b;
};

export const dateAfter = (factValue: unknown, value: unknown): boolean => {
  const a = isoTime(factValue);
  const b = isoTime(value);
  return a > b;
};

/** `dateBefore`/`dateAfter` against a literal value parsed once, at compile time. */
export function dateOperatorWithFixedValue(
  operator: string,
  value: unknown,
): (factValue: unknown) => boolean {
  const b = isoTime(value);
  return operator === "dateBefore" ? (a) => isoTime(a) < b : (a) => isoTime(a) > b;
}
