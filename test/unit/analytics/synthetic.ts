/**
 * Synthetic customer journeys with known outcomes, and an independent tally of what the
 * analytics should report (written without the code under test).
 */
import type { AnalyticsEvent } from "../../../src/core/analytics/event.js";

export const DAY = 86_400_000;
export const HOUR = 3_600_000;

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Plan {
  readonly flow: string;
  readonly steps: readonly string[];
  /** P(complete each step) */
  readonly stepPass: number;
}

export const PLANS: Readonly<Record<string, Plan>> = {
  "fast-track": {
    flow: "fast-track",
    steps: ["welcome-email", "settle-in", "self-serve-checklist"],
    stepPass: 0.85,
  },
  "high-touch": {
    flow: "high-touch",
    steps: ["welcome-pack", "kickoff-call", "workspace-configured", "training-session"],
    stepPass: 0.93,
  },
};

export interface Tally {
  started: number;
  completed: number;
  activated: number;
  npsScores: number[];
  toComplete: number[];
  steps: Map<string, { entered: number; completed: number; durations: number[] }>;
}

export interface Journeys {
  readonly events: AnalyticsEvent[];
  /** `flow|segment` → tally */
  readonly tally: Map<string, Tally>;
}

const newTally = (): Tally => ({
  started: 0,
  completed: 0,
  activated: 0,
  npsScores: [],
  toComplete: [],
  steps: new Map(),
});

/**
 * `count` accounts, each started inside [start, start + spreadDays) on one of the plans,
 * walking its steps with random durations; each finished flow reports `activated`, and most
 * accounts answer an NPS survey.
 */
export function journeys(opts: {
  readonly count: number;
  readonly start: number;
  readonly seed: number;
  readonly spreadDays?: number;
  readonly segments?: readonly string[];
  readonly prefix?: string;
}): Journeys {
  const r = rng(opts.seed);
  const segments = opts.segments ?? ["smb", "mid_market", "enterprise"];
  const plans = Object.values(PLANS);
  const events: AnalyticsEvent[] = [];
  const tally = new Map<string, Tally>();
  for (let i = 0; i < opts.count; i++) {
    const plan = plans[i % plans.length]!;
    const segment = segments[Math.floor(r() * segments.length)]!;
    const accountId = `${opts.prefix ?? "acct"}-${i}`;
    const instanceId = `fi_${opts.prefix ?? "x"}${String(i).padStart(6, "0")}`;
    const key = `${plan.flow}|${segment}`;
    let t = tally.get(key);
    if (!t) {
      t = newTally();
      tally.set(key, t);
    }
    const base = { accountId, instanceId, flow: plan.flow, flowVersion: 1, segment };
    let now = opts.start + Math.floor(r() * (opts.spreadDays ?? 10) * DAY);
    const startedAt = now;
    events.push({ ...base, type: "decision", at: new Date(now).toISOString(), rule: "some-rule" });
    t.started++;
    let finished = true;
    for (const stepId of plan.steps) {
      events.push({ ...base, type: "step.entered", stepId, at: new Date(now).toISOString() });
      const st = t.steps.get(stepId) ?? { entered: 0, completed: 0, durations: [] };
      t.steps.set(stepId, st);
      st.entered++;
      if (r() > plan.stepPass) {
        finished = false;
        break;
      }
      const d = Math.floor(r() * 5 * DAY) + HOUR;
      now += d;
      events.push({ ...base, type: "step.completed", stepId, at: new Date(now).toISOString() });
      st.completed++;
      st.durations.push(d);
    }
    if (finished) {
      events.push({ ...base, type: "flow.completed", at: new Date(now).toISOString() });
      t.completed++;
      t.toComplete.push(now - startedAt);
      now += HOUR;
      events.push({ ...base, type: "outcome", outcome: "activated", at: new Date(now).toISOString() });
      t.activated++;
    }
    if (r() < 0.8) {
      const score = Math.floor(r() * 11);
      now += HOUR;
      events.push({
        ...base,
        type: "outcome",
        outcome: "nps",
        value: score,
        at: new Date(now).toISOString(),
      });
      t.npsScores.push(score);
    }
  }
  events.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return { events, tally };
}

/** Nearest-rank percentile, written independently of the code under test. */
export function nearestRank(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  let rank = Math.ceil((p / 100) * s.length);
  if (rank < 1) rank = 1;
  return s[rank - 1]!;
}

/** NPS from raw scores, written independently of the code under test. */
export function npsOf(scores: readonly number[]) {
  const promoters = scores.filter((s) => s >= 9).length;
  const detractors = scores.filter((s) => s <= 6).length;
  return {
    promoters,
    passives: scores.length - promoters - detractors,
    detractors,
    responses: scores.length,
    score: scores.length ? Math.round(((promoters - detractors) / scores.length) * 100) : null,
  };
}
