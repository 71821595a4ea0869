/** Reads the analytics stream, the daily counters and the due index back. */
import { type AnalyticsEvent, dayOf, decodeEvent } from "../../core/analytics/event.js";
import { stageOf } from "../../core/analytics/stage.js";
import type { RulesRuntime } from "../../core/rules-runtime.js";
import { loadInstance } from "../redis/flow-store.js";
import { type AnalyticsDeps, dueIndexKey, readAttribution } from "./recorder.js";

/** At most this many stream entries are read for one report. */
export const MAX_EVENTS_READ = 500_000;
const PAGE = 5_000;

/**
 * Events appended from `sinceMs` on (stream ids are append times), oldest first, filtered to
 * `at ≤ toMs`; stops after `max` entries.
 */
export async function* readEvents(
  deps: AnalyticsDeps,
  sinceMs: number,
  toMs: number,
  max = MAX_EVENTS_READ,
): AsyncGenerator<AnalyticsEvent> {
  let start = `${Math.max(0, Math.floor(sinceMs))}-0`;
  let read = 0;
  while (read < max) {
    const page = (await deps.redis.xrange(
      deps.keys.global.analytics,
      start,
      "+",
      "COUNT",
      Math.min(PAGE, max - read),
    )) as [string, string[]][];
    if (page.length === 0) return;
    read += page.length;
    for (const [, fields] of page) {
      const e = decodeEvent(fields);
      if (e && Date.parse(e.at) <= toMs) yield e;
    }
    start = `(${page[page.length - 1]![0]}`;
    if (page.length < PAGE) return;
  }
}

/** Every event of the range in memory (for the folds), with a look-back before `fromMs` for durations. */
export async function collectEvents(
  deps: AnalyticsDeps,
  fromMs: number,
  toMs: number,
  lookbackMs: number,
): Promise<AnalyticsEvent[]> {
  const out: AnalyticsEvent[] = [];
  for await (const e of readEvents(deps, fromMs - lookbackMs, toMs)) out.push(e);
  // Stream order is append order; the folds want event time order.
  return out.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/** The daily counters summed over the UTC days from `fromMs` to `toMs` (at most 400 days). */
export async function readCounters(
  deps: AnalyticsDeps,
  fromMs: number,
  toMs: number,
): Promise<Record<string, number>> {
  const days: string[] = [];
  for (let t = Date.parse(`${dayOf(fromMs)}T00:00:00Z`); t <= toMs && days.length < 400; t += 86_400_000)
    days.push(dayOf(t));
  const p = deps.redis.pipeline();
  for (const d of days) p.hgetall(deps.keys.global.counters(d));
  const total: Record<string, number> = {};
  for (const [error, value] of (await p.exec()) ?? []) {
    if (error) throw error;
    for (const [f, v] of Object.entries(value as Record<string, string>))
      total[f] = (total[f] ?? 0) + Number(v);
  }
  return total;
}

export interface StuckInstance {
  readonly accountId: string;
  readonly instanceId: string;
  readonly userId?: string;
  readonly flow: { readonly id: string; readonly version: number };
  readonly segment: string;
  readonly step: { readonly id: string; readonly type: string | null; readonly stage: string | null };
  readonly stepEnteredAt: string;
  readonly dueAt: string;
  readonly overdueSeconds: number;
}

/**
 * Active instances whose current step is past its due time, most overdue first. Index entries
 * that no longer hold (the instance moved on, finished or was erased) are dropped on the way.
 */
export async function readStuck(
  deps: AnalyticsDeps & { readonly rules: RulesRuntime },
  nowMs: number,
  limit = 500,
): Promise<StuckInstance[]> {
  const key = dueIndexKey(deps.keys);
  const members = await deps.redis.zrangebyscore(key, "-inf", nowMs, "LIMIT", 0, limit * 2);
  const out: StuckInstance[] = [];
  const stale: string[] = [];
  for (const m of members) {
    const cut = m.lastIndexOf("|");
    const accountId = m.slice(0, cut);
    const instanceId = m.slice(cut + 1);
    const s = await loadInstance(deps, accountId, instanceId);
    const due = s?.status === "active" ? s.stepDueAt : undefined;
    if (!s || due === undefined) {
      stale.push(m);
      continue;
    }
    if (due > nowMs) continue;
    if (out.length >= limit) continue;
    const flow = await deps.rules.flow(s.flowId, s.flowVersion);
    const step = flow?.steps.find((x) => x.id === s.stepId);
    const a = await readAttribution(deps, accountId, { instanceId });
    out.push({
      accountId,
      instanceId,
      ...(s.userId ? { userId: s.userId } : {}),
      flow: { id: s.flowId, version: s.flowVersion },
      segment: a?.segment ?? "unknown",
      step: { id: s.stepId ?? "", type: step?.type ?? null, stage: stageOf(flow, s.stepId) ?? null },
      stepEnteredAt: new Date(s.stepEnteredAt).toISOString(),
      dueAt: new Date(due).toISOString(),
      overdueSeconds: Math.floor((nowMs - due) / 1000),
    });
  }
  if (stale.length > 0) await deps.redis.zrem(key, ...stale);
  return out.sort((a, b) => b.overdueSeconds - a.overdueSeconds);
}
