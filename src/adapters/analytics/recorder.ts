/**
 * The analytics port's Redis side: append events to the bounded `global.analytics` stream and
 * fold them into daily counters, one pipeline on the `{#or}` slot, never awaited by a request.
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
/** Sorted set (`{#or}` slot): `<accountId>|<instanceId>` scored by the current step's due time. */
export const dueIndexKey = (keys: Keys) => keys.global.dueIndex;

const dueMember = (accountId: string, instanceId: string) => `${accountId}|${instanceId}`;

/**
 * One call per batch: keep the due index in step, XADD each event (MAXLEN ~) and HINCRBY its
 * counter fields in the day's hash (TTL set once). KEYS[1] = the stream, KEYS[2] = the due index;
 * the counter hashes are built from ARGV[1] (their shared `{#or}` prefix), so every key is in one slot.
 * ARGV: counters prefix, maxlen, ttl, due change count D, D × (member, score or "" = remove),
 * then per event: day, #fields, fields…, #counters, counters…
 */
const APPEND = `
local prefix, maxlen, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local i = 5
for _ = 1, tonumber(ARGV[4]) do
  if ARGV[i + 1] == '' then redis.call('ZREM', KEYS[2], ARGV[i])
  else redis.call('ZADD', KEYS[2], ARGV[i + 1], ARGV[i]) end
  i = i + 2
end
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

/** A due-index change: the member's due time, or null to remove it. */
export type DueChange = readonly [member: string, dueAt: number | null];

const defined = new WeakSet<object>();
type AppendCommand = {
  analyticsAppend(stream: string, due: string, ...args: (string | number)[]): Promise<number>;
};
function appendCommand(redis: RedisClient): RedisClient & AppendCommand {
  if (!defined.has(redis)) {
    redis.defineCommand("analyticsAppend", { numberOfKeys: 2, lua: APPEND });
    defined.add(redis);
  }
  return redis as RedisClient & AppendCommand;
}

function appendArgs(
  keys: Keys,
  events: readonly AnalyticsEvent[],
  due: readonly DueChange[] = [],
): (string | number)[] {
  const args: (string | number)[] = [
    keys.global.counters(""),
    ANALYTICS_STREAM_MAXLEN,
    COUNTER_TTL_SECONDS,
    due.length,
  ];
  for (const [member, at] of due) args.push(member, at === null ? "" : at);
  for (const e of events) {
    const fields = encodeEvent(e);
    const counters = counterFields(e);
    args.push(dayOf(e.at), fields.length, ...fields, counters.length, ...counters);
  }
  return args;
}

/** Writes events and due-index changes in one call; resolves when Redis has them. */
async function write(deps: AnalyticsDeps, events: readonly AnalyticsEvent[], due: readonly DueChange[]) {
  if (events.length === 0 && due.length === 0) return;
  await appendCommand(deps.redis).analyticsAppend(
    deps.keys.global.analytics,
    deps.keys.global.dueIndex,
    ...appendArgs(deps.keys, events, due),
  );
}

interface Pending {
  readonly deps: AnalyticsDeps;
  readonly events: AnalyticsEvent[];
  readonly due: DueChange[];
  readonly done: Promise<void>;
}
const pending = new WeakMap<object, Pending>();

/**
 * Best effort, batched: everything queued on one client during one event-loop turn is written in
 * one call (a worker commits many steps per turn). Resolves when written; never rejects (logs).
 */
export function queueAnalytics(
  deps: AnalyticsDeps,
  events: readonly AnalyticsEvent[],
  due: readonly DueChange[] = [],
): Promise<void> {
  if (deps.analytics === "off" || (events.length === 0 && due.length === 0)) return Promise.resolve();
  let p = pending.get(deps.redis);
  if (!p) {
    const batch: Omit<Pending, "done"> = { deps, events: [], due: [] };
    const done = new Promise<void>((r) => setImmediate(r)).then(async () => {
      pending.delete(deps.redis);
      try {
        await write(batch.deps, batch.events, batch.due);
      } catch (e) {
        batch.deps.logger?.warn({ err: String(e) }, "analytics append failed");
      }
    });
    p = { ...batch, done };
    pending.set(deps.redis, p);
  }
  p.events.push(...events);
  p.due.push(...due);
  return p.done;
}

/**
 * Resolves once the analytics batched on `redis` so far are written (at once when none are). The
 * edge awaits it before closing its per-request connection: a batch written after the QUIT was
 * lost, and with it every step change that edge events caused.
 */
export function analyticsWritten(redis: object): Promise<void> {
  return pending.get(redis)?.done ?? Promise.resolve();
}

/** Appends events and folds them into the daily counters; resolves when Redis has them. */
export async function appendAnalytics(deps: AnalyticsDeps, events: readonly AnalyticsEvent[]): Promise<void> {
  await write(deps, events, []);
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

/**
 * The attribution of an account whose instances all run one flow (an account-level outcome when
 * only its users were routed): that flow earned it. Undefined when none, or flows differ.
 */
async function soleFlowAttribution(
  deps: AnalyticsDeps,
  accountId: string,
): Promise<(Attribution & { readonly instanceId: string }) | undefined> {
  const all = await deps.redis.hgetall(attributionKey(deps.keys, accountId));
  let sole: (Attribution & { readonly instanceId: string }) | undefined;
  for (const [field, raw] of Object.entries(all)) {
    if (!field.startsWith("i:")) continue;
    const a = JSON.parse(raw) as Attribution;
    if (sole && (sole.flow !== a.flow || sole.variant !== a.variant)) return undefined;
    sole = { ...a, instanceId: field.slice(2) };
  }
  return sole;
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
 * index (instances whose current step has a due time) in step. `attributions` are what the
 * commit script read beside each transition (JSON, or null when the account was erased or the
 * instance never routed). Best effort, batched per event-loop turn, not awaited.
 */
export function recordTransitions(
  deps: AnalyticsDeps,
  accountId: string,
  transitions: readonly { readonly state: InstanceState; readonly history: readonly HistoryEntry[] }[],
  attributions: readonly (string | null | undefined)[],
): void {
  if (deps.analytics === "off") return;
  const events: AnalyticsEvent[] = [];
  const due: DueChange[] = [];
  transitions.forEach((t, i) => {
    const s = t.state;
    const raw = attributions[i];
    const a = raw ? (JSON.parse(raw) as Attribution) : undefined;
    // No attribution: the account was erased meanwhile; a due entry would outlive it.
    due.push([
      dueMember(accountId, s.id),
      s.status === "active" && s.stepDueAt !== undefined && a ? s.stepDueAt : null,
    ]);
    if (t.history.some((h) => FROM_HISTORY[h.type])) events.push(...transitionEvents(s, t.history, a));
  });
  void queueAnalytics(deps, events, due);
}

/**
 * Records an accepted outcome against the flow the account (or user) is in. Best effort: the
 * promise never rejects. Await it where the connection ends with the request (the edge).
 */
export function recordOutcome(
  deps: AnalyticsDeps,
  o: {
    readonly accountId: string;
    readonly userId?: string | undefined;
    readonly type: string;
    readonly value?: number | undefined;
    readonly at: string;
  },
): Promise<void> {
  if (deps.analytics === "off") return Promise.resolve();
  const run = async () => {
    const a =
      (await readAttribution(deps, o.accountId, { subject: subjectOf(o.userId) })) ??
      (o.userId ? await readAttribution(deps, o.accountId, { subject: ACCOUNT_SUBJECT }) : undefined) ??
      (await soleFlowAttribution(deps, o.accountId));
    const event: AnalyticsEvent = {
      ...(a
        ? baseEvent(o.accountId, a.instanceId, a, o.at)
        : { at: o.at, accountId: o.accountId, flow: "-" }),
      type: "outcome",
      outcome: o.type,
      ...(o.value !== undefined ? { value: o.value } : {}),
    };
    await write(deps, [event], []);
  };
  return run().catch((e: unknown) => deps.logger?.warn({ err: String(e) }, "analytics append failed"));
}
