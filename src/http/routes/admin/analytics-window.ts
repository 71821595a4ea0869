import type { Context } from "hono";
import { z } from "zod";
import { ApiError } from "../../errors.js";

const DAY_MS = 86_400_000;
/** Reports look this far back before `from` to pair completions with their starts. */
export const LOOKBACK_MS = 90 * DAY_MS;

export const windowQuery = z.object({
  from: z.string().optional().meta({
    description: "ISO 8601 date or date-time (default: 30 days before `to`)",
    example: "2026-01-01",
  }),
  to: z
    .string()
    .optional()
    .meta({ description: "ISO 8601 date or date-time (default: now)", example: "2026-01-31T23:59:59Z" }),
});

const parseTime = (raw: string, endOfDay: boolean): number =>
  /^\d{4}-\d{2}-\d{2}$/.test(raw)
    ? Date.parse(`${raw}T${endOfDay ? "23:59:59.999" : "00:00:00.000"}Z`)
    : Date.parse(raw);

/** `?from&to` as ms; a date alone covers the whole UTC day; 422 when unreadable, reversed or over 400 days. */
export function windowOf(c: Context, now: Date): { from: number; to: number } {
  const rawTo = c.req.query("to");
  const rawFrom = c.req.query("from");
  const to = rawTo === undefined ? now.getTime() : parseTime(rawTo, true);
  const from = rawFrom === undefined ? to - 30 * DAY_MS : parseTime(rawFrom, false);
  const bad = (path: string, message: string) =>
    new ApiError("validation_failed", `${path}: ${message}`, [{ path, message }]);
  if (!Number.isFinite(to)) throw bad("to", "expected an ISO 8601 date or date-time");
  if (!Number.isFinite(from)) throw bad("from", "expected an ISO 8601 date or date-time");
  if (from > to) throw bad("from", "must not be after to");
  if (to - from > 400 * DAY_MS) throw bad("from", "the range may span at most 400 days");
  return { from, to };
}
