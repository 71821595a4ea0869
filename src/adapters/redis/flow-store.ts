import { Cluster } from "ioredis";
import { buildFacts, type HandoverView } from "../../core/facts.js";
import type { HistoryEntry, InstanceState, OutboxIntent } from "../../core/flow/instance.js";
import {
  advance,
  type FlowInput,
  type Refusal,
  type Transition,
  type TransitionContext,
} from "../../core/flow/transition.js";
import type { Clock } from "../../core/ports.js";
import { err, type Result } from "../../core/result.js";
import type { RulesRuntime } from "../../core/rules-runtime.js";
import type { FlowDefinition } from "../../core/ruleset/schemas.js";
import { recordTransitions } from "../analytics/recorder.js";
import type { RedisClient } from "./connect.js";
import { flowCommands } from "./flow-scripts.js";
import { decodeInstance } from "./instance-codec.js";
import type { Keys } from "./keys.js";

/** How many history entries an instance keeps (oldest dropped first). */
export const HISTORY_MAX = 500;
/** How long an event id is remembered (CONTRACT: 72 h). */
export const EVENT_DEDUPE_SECONDS = 72 * 3600;
const MAX_CAS_TRIES = 200;

export interface FlowStoreDeps {
  readonly redis: RedisClient;
  readonly keys: Keys;
  readonly rules: RulesRuntime;
  readonly clock: Clock;
  /** Multiplies flow delays (tests and benches). */
  readonly durationScale?: number;
  /** Called with the account id after a commit that appended outbox intents. */
  readonly wake?: (accountId: string) => void;
  /**
   * An in-process relay (the worker's own): handed the exact outbox values a commit appended, it
   * moves them to the queue and acks them. When set, the commit neither pushes the global ready
   * list nor calls `wake` (a crash in between leaves them in the outbox for the sweep).
   */
  /** Hands committed outbox values to this process's relay; false when it is closing. */
  readonly relay?: (accountId: string, values: readonly string[]) => boolean;
}

export type TransitionFailure = Refusal | "unknown_instance" | "unknown_flow";

/** The key base the Lua scripts build keys from: `<prefix>{<accountId>}`. */
const baseOf = (keys: Keys, accountId: string) => keys.account.meta(accountId).slice(0, -":meta".length);

export async function loadInstance(
  deps: Pick<FlowStoreDeps, "redis" | "keys">,
  accountId: string,
  instanceId: string,
) {
  return decodeInstance(await deps.redis.hgetall(deps.keys.account.instance(accountId, instanceId)));
}

/** Every instance of an account (via its subjects hash). */
export async function listInstances(
  deps: Pick<FlowStoreDeps, "redis" | "keys">,
  accountId: string,
): Promise<InstanceState[]> {
  const ids = await deps.redis.hvals(deps.keys.account.subjects(accountId));
  const out: InstanceState[] = [];
  for (const id of [...new Set(ids)].sort()) {
    const s = await loadInstance(deps, accountId, id);
    if (s) out.push(s);
  }
  return out;
}

export async function readHistory(
  deps: Pick<FlowStoreDeps, "redis" | "keys">,
  accountId: string,
  instanceId: string,
): Promise<HistoryEntry[]> {
  const raw = await deps.redis.lrange(deps.keys.account.history(accountId, instanceId), 0, -1);
  return raw.map((r) => JSON.parse(r) as HistoryEntry);
}

async function contextFor(
  deps: FlowStoreDeps,
  flow: FlowDefinition,
  s: InstanceState,
): Promise<TransitionContext> {
  const now = deps.clock.now();
  const base: TransitionContext = {
    now: now.getTime(),
    ...(deps.durationScale !== undefined ? { durationScale: deps.durationScale } : {}),
  };
  if (!flow.steps.some((x) => x.type === "branch")) return base;
  const active = await deps.rules.active();
  if (!active) return base;
  const raw = await deps.redis.get(deps.keys.account.handover(s.accountId));
  const handover = raw ? (JSON.parse(raw) as HandoverView) : undefined;
  const facts = buildFacts({
    accountId: s.accountId,
    userId: s.userId,
    role: s.input.role,
    answers: s.input.answers,
    handover,
    now,
    settings: active.ruleset.settings,
  });
  return { ...base, facts };
}

interface Update {
  readonly expectedRev: number;
  readonly t: Transition;
}

interface CommitOptions {
  readonly guards?: readonly InstanceState[];
  readonly dedupe?: { readonly eventId: string; readonly value: string };
  readonly record?: Readonly<Record<string, unknown>>;
}

async function commit(
  deps: FlowStoreDeps,
  accountId: string,
  updates: readonly Update[],
  o: CommitOptions = {},
) {
  const intents: OutboxIntent[] = updates.flatMap((u) => [...u.t.intents]);
  const values = intents.map((i) => JSON.stringify(i));
  const args: string[] = [
    baseOf(deps.keys, accountId),
    String(HISTORY_MAX),
    o.dedupe?.eventId ?? "",
    String(EVENT_DEDUPE_SECONDS),
    o.dedupe?.value ?? "",
    o.record ? JSON.stringify(o.record) : "",
    String(o.guards?.length ?? 0),
  ];
  for (const g of o.guards ?? []) args.push(g.id, String(g.rev));
  args.push(String(updates.length));
  for (const u of updates) {
    args.push(u.t.state.id, String(u.expectedRev), String(u.t.state.rev), JSON.stringify(u.t.state));
    args.push(String(u.t.history.length));
    for (const h of u.t.history) args.push(JSON.stringify(h));
  }
  args.push(String(values.length), ...values);
  const reply = await flowCommands(deps.redis).flowCommit(deps.keys.account.meta(accountId), ...args);
  if (reply[0] === "ok" && values.length > 0) afterOutbox(deps, accountId, values);
  // Analytics (issue 10): step/flow events and the due index; best effort, not awaited.
  if (reply[0] === "ok" && updates.length > 0)
    recordTransitions(
      deps,
      accountId,
      updates.map((u) => u.t),
      reply.slice(1),
    );
  return reply;
}

/**
 * Best-effort wake-ups after an outbox append: straight to the in-process relay when there is one,
 * else the global ready list (other processes) and the in-process wake-up.
 */
function afterOutbox(deps: FlowStoreDeps, accountId: string, values: readonly string[]): void {
  if (deps.relay?.(accountId, values)) return;
  deps.redis.lpush(deps.keys.global.ready, accountId).catch(() => {});
  deps.wake?.(accountId);
}

/**
 * Applies one input to one instance as a compare-and-set on its rev, re-reading on a lost race.
 * `loaded` is the state the caller just read (saves the first read; a stale one only costs a retry).
 */
export async function transitionInstance(
  deps: FlowStoreDeps,
  accountId: string,
  instanceId: string,
  input: FlowInput,
  loaded?: InstanceState,
): Promise<Result<Transition, TransitionFailure>> {
  for (let i = 0; i < MAX_CAS_TRIES; i++) {
    const s = i === 0 && loaded ? loaded : await loadInstance(deps, accountId, instanceId);
    if (!s) return err("unknown_instance");
    const flow = await deps.rules.flow(s.flowId, s.flowVersion);
    if (!flow) return err("unknown_flow");
    const t = advance(flow, s, input, await contextFor(deps, flow, s));
    if (!t.ok) return t;
    const reply = await commit(deps, accountId, [{ expectedRev: s.rev, t: t.value }]);
    if (reply[0] === "ok") return t;
    if (reply[0] === "missing" || reply[0] === "unknown") return err("unknown_instance");
    await backoff(i);
  }
  throw new Error(`instance ${instanceId} stayed contended for ${MAX_CAS_TRIES} tries`);
}

export interface FlowEvent {
  readonly type: string;
  readonly eventId?: string;
  readonly userId?: string;
  readonly stepId?: string;
  readonly data?: unknown;
}

export type EventOutcome = { readonly applied: boolean; readonly duplicate: boolean } | "unknown_account";

/**
 * Delivers an event to the user's instance (or every active instance of the account); records it
 * and its dedupe mark in the same script as the transitions it causes.
 */
export async function applyEvent(
  deps: FlowStoreDeps,
  accountId: string,
  ev: FlowEvent,
): Promise<EventOutcome> {
  const k = deps.keys.account;
  const eventKey = ev.eventId
    ? k.eventSeen(accountId, ev.eventId).slice(baseOf(deps.keys, accountId).length + ":evt:".length)
    : undefined;
  for (let i = 0; i < MAX_CAS_TRIES; i++) {
    // One round trip: known account, dedupe mark, the instances the event may move.
    const read = await flowCommands(deps.redis).flowEventRead(
      k.meta(accountId),
      baseOf(deps.keys, accountId),
      eventKey ?? "",
      ev.userId !== undefined ? "1" : "0",
      ev.userId ?? "",
    );
    if (read[0] === 0) return "unknown_account";
    const [, seen, ...hashes] = read;
    if (seen !== null) return { applied: seen === "1", duplicate: true };
    let targets = hashes.flatMap((h) => decodeInstance(h) ?? []);
    targets = targets.filter((s) => s.status === "active");
    const updates: Update[] = [];
    for (const s of targets) {
      const flow = await deps.rules.flow(s.flowId, s.flowVersion);
      if (!flow) continue;
      const input: FlowInput = {
        kind: "event",
        type: ev.type,
        ...(ev.stepId !== undefined ? { stepId: ev.stepId } : {}),
        ...(ev.eventId !== undefined ? { eventId: ev.eventId } : {}),
      };
      const t = advance(flow, s, input, await contextFor(deps, flow, s));
      if (t.ok) updates.push({ expectedRev: s.rev, t: t.value });
    }
    const applied = updates.length > 0;
    const reply = await commit(deps, accountId, updates, {
      guards: targets,
      ...(eventKey ? { dedupe: { eventId: eventKey, value: applied ? "1" : "0" } } : {}),
      record: {
        at: deps.clock.now().toISOString(),
        type: ev.type,
        ...(ev.eventId ? { eventId: ev.eventId } : {}),
        ...(ev.userId ? { userId: ev.userId } : {}),
        ...(ev.stepId ? { stepId: ev.stepId } : {}),
        ...(ev.data !== undefined ? { data: ev.data } : {}),
        applied,
      },
    });
    if (reply[0] === "ok") return { applied, duplicate: false };
    if (reply[0] === "dup") return { applied: reply[1] === "1", duplicate: true };
    if (reply[0] === "unknown") return "unknown_account";
    await backoff(i);
  }
  throw new Error(`account ${accountId} stayed contended for ${MAX_CAS_TRIES} tries`);
}

function backoff(i: number): Promise<void> {
  const ms = Math.random() * Math.min(50, 1 + i * 2);
  return new Promise((r) => setTimeout(r, ms));
}

/** The account's outbox intents (oldest first) with their raw values (to remove exactly those). */
export async function readOutbox(deps: Pick<FlowStoreDeps, "redis" | "keys">, accountId: string, max = 500) {
  const raw = await deps.redis.lrange(deps.keys.account.outbox(accountId), 0, max - 1);
  return raw.map((value) => ({ value, intent: JSON.parse(value) as OutboxIntent }));
}

/** Removes exactly these outbox values (each once). */
export async function ackOutbox(
  deps: Pick<FlowStoreDeps, "redis" | "keys">,
  accountId: string,
  values: readonly string[],
) {
  if (values.length === 0) return 0;
  return flowCommands(deps.redis).flowOutboxAck(
    1,
    deps.keys.account.outbox(accountId),
    String(values.length),
    ...values,
  );
}

/**
 * Acks several accounts' outbox values. On one Redis that is one call; on a Cluster (one slot
 * per account) one call per account. Resolves with the accounts whose ack failed.
 */
export async function ackOutboxes(
  deps: Pick<FlowStoreDeps, "redis" | "keys">,
  batch: readonly { readonly accountId: string; readonly values: readonly string[] }[],
): Promise<string[]> {
  if (deps.redis instanceof Cluster || batch.length === 1) {
    const acks = await Promise.allSettled(batch.map((b) => ackOutbox(deps, b.accountId, b.values)));
    return batch.filter((_, i) => acks[i]!.status === "rejected").map((b) => b.accountId);
  }
  const keys: string[] = [];
  const args: string[] = [];
  for (const b of batch) {
    keys.push(deps.keys.account.outbox(b.accountId));
    args.push(String(b.values.length), ...b.values);
  }
  try {
    await flowCommands(deps.redis).flowOutboxAck(keys.length, ...keys, ...args);
    return [];
  } catch {
    return batch.map((b) => b.accountId);
  }
}

/** What an erase removed: its key count, and the ids global indexes hold for the account. */
export interface ErasedAccount {
  readonly keys: number;
  readonly instanceIds: readonly string[];
  readonly decisionIds: readonly string[];
  /** The delivery ids of the webhooks it had stored (their global owner records go next). */
  readonly webhookIds: readonly string[];
}

/** Deletes every key of an account in one atomic call; undefined for an unknown account. */
export async function eraseAccount(
  deps: Pick<FlowStoreDeps, "redis" | "keys">,
  accountId: string,
): Promise<ErasedAccount | undefined> {
  const k = deps.keys.account;
  const fixed = [
    k.meta(accountId),
    k.handover(accountId),
    k.handovers(accountId),
    k.subjects(accountId),
    k.decisions(accountId),
    k.events(accountId),
    k.attribution(accountId),
    k.outbox(accountId),
    k.seen(accountId),
  ];
  const reply = await flowCommands(deps.redis).flowErase(
    fixed.length,
    ...fixed,
    baseOf(deps.keys, accountId),
  );
  if (reply.length === 1) return undefined;
  const [keys, instanceIds, decisionIds, webhookIds] = reply;
  return { keys, instanceIds, decisionIds, webhookIds };
}
