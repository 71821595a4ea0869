/**
 * The analytics port's Redis side: append events to the bounded `global.analytics` stream and
 * fold them into daily counters, one pipeline on the `{or}` slot, never awaited by a request.
 */
import { type AnalyticsEvent, counterFields, dayOf, encodeEvent } from "../../core/analytics/event.js";
import type { HistoryEntry, InstanceState } from "../../core/flow/instance.js";
import type { Logger } from "../../core/ports.js";
import { ACCOUNT_SUBJECT, subjectOf } from "../../core/routing.js";
import type { RedisClient } from "../redis/connect.js";
import type { Keys } from "../redis/keys.js";

/** Approximate cap of the stream (`XADD MAXLEN ~`). */
export const ANALYTICS_STREAM_MAXLEN = 1_000_000;
/** Daily counter hashes are kept this long. */
export const COUNTER_TTL_SECONDS = 400 * 86_400;

export interface AnalyticsDeps {
  readonly redis: RedisClient;
  readonly keys: Keys;
  readonly logger?: Logger;
  /** `off` skips recording (benches measure the cost of analytics with it). */
  readonly analytics?: "off";
}

/** What an instance's later events are attributed to (kept per account, erased with it). */
export interface Attribution {
  readonly flow: string;
  readonly flowVersion: number;
  readonly segment: string;
  readonly experiment?: string;
  readonly variant?: string;
}

/** Hash `{accountId}:an`: `i:<instanceId>` → Attribution JSON, `s:<subject>` → instanceId. */
export const attributionKey = (keys: Keys, accountId: string) => keys.account.attribution(accountId);
/** Sorted set (`{or}` slot): `<accountId>|<instanceId>` scored by the current step's due time. */
export const dueIndexKey = (keys: Keys) => keys.global.dueIndex;

const dueMember = (accountId: string, instanceId: string) => `${accountId}|${instanceId}`;

/**
 * One call per batch: XADD each event (MAXLEN ~) and HINCRBY its counter fields in the day's
 * hash (TTL set once). KEYS[1] = the stream; the counter hashes are built from ARGV[1] (their
 * shared `{or}` prefix), so every key is in one slot.
 * ARGV: counters prefix, maxlen, ttl, then per event: day, #fields, fields…, #counters, counters…
 */
const APPEND = `
local prefix, maxlen, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local i = 4
while i <= #ARGV do
  local day = ARGV[i]
  local nf = tonumber(ARGV[i + 1])
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', unpack(ARGV, i + 2, i + 1 + nf))
  i = i + 2 + nf
  local nc = tonumber(ARGV[i])
  local key = prefix .. day
  for j = i + 1, i + nc do redis.call('HINCRBY', key, ARGV[j], 1) end
  if nc > 0 and redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, ttl) end
  i = i + 1 + nc
end
return 1
`;

const defined = new WeakSet<object>();
type AppendCommand = { analyticsAppend(stream: string, ...args: (string | number)[]): Promise<number> };
function appendCommand(redis: RedisClient): RedisClient & AppendCommand {
  if (!defined.has(redis)) {
    redis.defineCommand("analyticsAppend", { numberOfKeys: 1, lua: APPEND });
    defined.add(redis);
  }
  return redis as RedisClient & AppendCommand;
}

function appendArgs(keys: Keys, events: readonly AnalyticsEvent[]): (string | number)[] {
  const args: (string | number)[] = [
    keys.global.analytics,
    keys.global.counters(""),
    ANALYTICS_STREAM_MAXLEN,
    COUNTER_TTL_SECONDS,
  ];
  for (const e of events) {
    const fields = encodeEvent(e);
    const counters = counterFields(e);
    args.push(dayOf(e.at), fields.length, ...fields, counters.length, ...counters);
  }
  return args;
}

/** Appends events and folds them into the daily counters; resolves when Redis has them. */
export async function appendAnalytics(deps: AnalyticsDeps, events: readonly AnalyticsEvent[]): Promise<void> {
  if (events.length === 0) return;
  const [stream, ...args] = appendArgs(deps.keys, events);
  await appendCommand(deps.redis).analyticsAppend(stream as string, ...args);
}

/**
 * A pipeline that starts with the append, for the caller to add its own `{or}`-slot commands
 * to, so analytics costs no extra round trip on the route path.
 */
export function pipelineAnalytics(
  redis: RedisClient,
  keys: Keys,
  events: readonly AnalyticsEvent[],
): ReturnType<RedisClient["pipeline"]> {
  // The command must be defined before the pipeline is made for the pipeline to carry it.
  if (events.length > 0) appendCommand(redis);
  const pipeline = redis.pipeline();
  if (events.length === 0) return pipeline;
  const [stream, ...args] = appendArgs(keys, events);
  (pipeline as unknown as AppendCommand).analyticsAppend(stream as string, ...args);
  return pipeline;
}

/** Best effort, off the caller's path: appends and logs (never throws) on failure. */
export function recordAnalytics(
  deps: AnalyticsDeps,
  event: AnalyticsEvent | readonly AnalyticsEvent[],
): void {
  const events = Array.isArray(event) ? event : [event as AnalyticsEvent];
  appendAnalytics(deps, events).catch((e: unknown) =>
    deps.logger?.warn({ err: String(e) }, "analytics append failed"),
  );
}

/** Reads the attribution of one instance, or of a subject's instance (`userId` or `-`). */
export async function readAttribution(
  deps: AnalyticsDeps,
  accountId: string,
  ref: { readonly instanceId: string } | { readonly subject: string },
): Promise<(Attribution & { readonly instanceId: string }) | undefined> {
  const key = attributionKey(deps.keys, accountId);
  const instanceId = "instanceId" in ref ? ref.instanceId : await deps.redis.hget(key, `s:${ref.subject}`);
  if (!instanceId) return undefined;
  const raw = await deps.redis.hget(key, `i:${instanceId}`);
  return raw ? { ...(JSON.parse(raw) as Attribution), instanceId } : undefined;
}

/** A decision that created an instance or moved it to another flow. */
export interface RouteChange {
  readonly kind: "decision" | "rerouted";
  readonly state: InstanceState;
  readonly segment: string;
  readonly rule: string | null;
  readonly from?: string;
  readonly stage?: string | undefined;
}

/** The attribution hash fields of a created or moved instance (written by the route script itself). */
export function routeChangeAttribution(change: RouteChange): {
  key: (keys: Keys) => string;
  fields: string[];
} {
  const s = change.state;
  return {
    key: (keys) => attributionKey(keys, s.accountId),
    fields: [`i:${s.id}`, JSON.stringify(attributionOf(change)), `s:${s.subject}`, s.id],
  };
}

function attributionOf(change: RouteChange): Attribution {
  const s = change.state;
  return {
    flow: s.flowId,
    flowVersion: s.flowVersion,
    segment: change.segment,
    ...(s.experiment ? { experiment: s.experiment.id, variant: s.experiment.variant } : {}),
  };
}

/** The `decision`/`rerouted` event plus the first step's entry for a route change. */
export function routeChangeEvents(change: RouteChange): AnalyticsEvent[] {
  const s = change.state;
  const at = new Date(s.updatedAt).toISOString();
  const base = baseEvent(s.accountId, s.id, attributionOf(change), at);
  const events: AnalyticsEvent[] = [
    {
      ...base,
      type: change.kind,
      ...(change.rule ? { rule: change.rule } : {}),
      ...(change.from ? { from: change.from } : {}),
    },
  ];
  if (s.stepId)
    events.push({
      ...base,
      type: "step.entered",
      stepId: s.stepId,
      ...(change.stage ? { stage: change.stage } : {}),
    });
  return events;
}

/**
 * After `/v1/route` created or moved an instance: remember its attribution (account slot) and
 * record `decision`/`rerouted` plus the first step's entry. Best effort, not awaited. The route
 * store itself folds both into writes it already makes; this is for other callers.
 */
export function recordRouteChange(deps: AnalyticsDeps, change: RouteChange): void {
  if (deps.analytics === "off") return;
  const a = routeChangeAttribution(change);
  const write = deps.redis.hset(a.key(deps.keys), ...a.fields);
  Promise.all([write, appendAnalytics(deps, routeChangeEvents(change))]).catch((e: unknown) =>
    deps.logger?.warn({ err: String(e) }, "analytics append failed"),
  );
}

function baseEvent(accountId: string, instanceId: string, a: Attribution, at: string) {
  return {
    at,
    accountId,
    instanceId,
    flow: a.flow,
    flowVersion: a.flowVersion,
    segment: a.segment,
    ...(a.experiment && a.variant ? { experiment: a.experiment, variant: a.variant } : {}),
  };
}

/** Flow-engine history entry types → analytics event types (others are not analytics events). */
const FROM_HISTORY: Readonly<Record<string, AnalyticsEvent["type"]>> = {
  "step.entered": "step.entered",
  "step.completed": "step.completed",
  overdue: "task.overdue",
  escalated: "task.overdue",
  completed: "flow.completed",
  "step.failed": "flow.failed",
};

/** Maps one committed transition to analytics events (pure; exported for tests). */
export function transitionEvents(
  state: InstanceState,
  history: readonly HistoryEntry[],
  attribution: Attribution | undefined,
): AnalyticsEvent[] {
  const a: Attribution = attribution ?? {
    flow: state.flowId,
    flowVersion: state.flowVersion,
    segment: "unknown",
    ...(state.experiment ? { experiment: state.experiment.id, variant: state.experiment.variant } : {}),
  };
  const out: AnalyticsEvent[] = [];
  for (const h of history) {
    const type = FROM_HISTORY[h.type];
    if (!type) continue;
    const stage = typeof h.detail?.stage === "string" ? h.detail.stage : undefined;
    out.push({
      ...baseEvent(
        state.accountId,
        state.id,
        { ...a, flow: state.flowId, flowVersion: state.flowVersion },
        h.at,
      ),
      type,
      ...(h.stepId ? { stepId: h.stepId } : {}),
      ...(stage ? { stage } : {}),
    });
  }
  return out;
}

/**
 * After the flow engine committed transitions: record their analytics events and keep the due
 * index (instances whose current step has a due time) in step. Best effort, not awaited.
 */
export function recordTransitions(
  deps: AnalyticsDeps,
  accountId: string,
  transitions: readonly { readonly state: InstanceState; readonly history: readonly HistoryEntry[] }[],
): void {
  if (deps.analytics === "off") return;
  const run = async () => {
    const events: AnalyticsEvent[] = [];
    const due = deps.redis.pipeline();
    for (const t of transitions) {
      const s = t.state;
      const member = dueMember(accountId, s.id);
      const a = await readAttribution(deps, accountId, { instanceId: s.id });
      // No attribution: the account was erased meanwhile; a due entry would outlive it.
      if (s.status === "active" && s.stepDueAt !== undefined && a)
        due.zadd(dueIndexKey(deps.keys), s.stepDueAt, member);
      else due.zrem(dueIndexKey(deps.keys), member);
      if (!t.history.some((h) => FROM_HISTORY[h.type])) continue;
      events.push(...transitionEvents(s, t.history, a));
    }
    await Promise.all([due.exec(), appendAnalytics(deps, events)]);
  };
  run().catch((e: unknown) => deps.logger?.warn({ err: String(e) }, "analytics append failed"));
}

/** Records an accepted outcome against the flow the account (or user) is in. Best effort. */
export function recordOutcome(
  deps: AnalyticsDeps,
  o: {
    readonly accountId: string;
    readonly userId?: string | undefined;
    readonly type: string;
    readonly value?: number | undefined;
    readonly at: string;
  },
): void {
  if (deps.analytics === "off") return;
  const run = async () => {
    const a =
      (await readAttribution(deps, o.accountId, { subject: subjectOf(o.userId) })) ??
      (o.userId ? await readAttribution(deps, o.accountId, { subject: ACCOUNT_SUBJECT }) : undefined);
    const event: AnalyticsEvent = {
      ...(a
        ? baseEvent(o.accountId, a.instanceId, a, o.at)
        : { at: o.at, accountId: o.accountId, flow: "-" }),
      type: "outcome",
      outcome: o.type,
      ...(o.value !== undefined ? { value: o.value } : {}),
    };
    await appendAnalytics(deps, [event]);
  };
  run().catch((e: unknown) => deps.logger?.warn({ err: String(e) }, "analytics append failed"));
}
