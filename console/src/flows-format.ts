/** Formatting and plain-language verdicts for the Flows page; pure (no DOM). */

const DAY_MS = 86_400_000;

/** A rate in [0, 1] as a percentage ("—" when unknown). */
export function pct(rate: number | null | undefined, digits = 1): string {
  return typeof rate === "number" && Number.isFinite(rate) ? `${(rate * 100).toFixed(digits)} %` : "—";
}

/** A duration in ms in the largest readable unit ("—" when unknown). */
export function duration(ms: number | null | undefined): string {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "—";
  const abs = Math.abs(ms);
  if (abs < 60_000) return `${Math.round(ms / 1000)} s`;
  if (abs < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (abs < 2 * DAY_MS) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / DAY_MS).toFixed(1)} d`;
}

/** `YYYY-MM-DD` (UTC) of a time. */
export const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The default range: the last 30 days up to today (UTC dates, both inclusive, as the API reads them). */
export function defaultRange(nowMs: number): { from: string; to: string } {
  return { from: isoDay(nowMs - 29 * DAY_MS), to: isoDay(nowMs) };
}

/** A p-value for people: two significant digits, or "< 0.0001". */
export function pValue(p: number): string {
  return p < 0.0001 ? "< 0.0001" : p.toPrecision(2);
}

/**
 * Subjects per variant a two-sided test at 95 % needs to detect a difference between rates
 * `a` and `b` with 80 % power (normal approximation); undefined when they are equal.
 */
export function samplesNeeded(a: number, b: number): number | undefined {
  const d = Math.abs(b - a);
  if (!(d > 0)) return undefined;
  const k = (1.96 + 0.8416) ** 2;
  return Math.ceil((k * (a * (1 - a) + b * (1 - b))) / (d * d));
}

export interface VerdictInput {
  readonly metric: string;
  readonly a: string;
  readonly b: string;
  readonly diff: number;
  readonly p: number;
  readonly significant: boolean;
  readonly nA: number;
  readonly nB: number;
  readonly rateA: number | null;
  readonly rateB: number | null;
  /** the smallest sample per side the server counts as enough (30) */
  readonly minSamples?: number;
}

export interface Verdict {
  readonly tone: "better" | "worse" | "pending";
  readonly text: string;
}

/** One comparison of a variant with the baseline, in words a CS lead can act on. */
export function verdict(v: VerdictInput): Verdict {
  const points = `${v.diff >= 0 ? "+" : "−"}${Math.abs(v.diff * 100).toFixed(1)} points`;
  if (v.significant) {
    const winner = v.diff > 0 ? v.b : v.a;
    const loser = v.diff > 0 ? v.a : v.b;
    return {
      tone: v.diff > 0 ? "better" : "worse",
      text: `variant ${winner} better than ${loser} on ${v.metric} (${points}, p ${pValue(v.p)}), significant`,
    };
  }
  const min = v.minSamples ?? 30;
  const smallest = Math.min(v.nA, v.nB);
  let need = "";
  if (v.rateA !== null && v.rateB !== null) {
    const n = samplesNeeded(v.rateA, v.rateB);
    if (n !== undefined && n > smallest)
      need = `; about ${n.toLocaleString("en")} per variant would confirm a gap this size`;
  }
  if (smallest < min && !need) need = `; at least ${min} per variant (smallest has ${smallest})`;
  return {
    tone: "pending",
    text: `${v.metric}: ${v.b} ${points} vs ${v.a} — not significant yet — need more samples (p ${pValue(v.p)}${need})`,
  };
}
