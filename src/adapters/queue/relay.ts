import type { Queue } from "bullmq";
import type { AnalyticsEvent } from "../../core/analytics/index.js";
import { notifyIntent, type OutboxIntent } from "../../core/flow/instance.js";
import type { Logger } from "../../core/ports.js";
import { queueAnalytics } from "../analytics/recorder.js";
import type { RedisClient } from "../redis/connect.js";
import { ackOutbox, ackOutboxes, readOutbox } from "../redis/flow-store.js";
import type { Keys } from "../redis/keys.js";
import { callsOut, type FlowJobData, jobOptions } from "./flow-queue.js";
import { outboxSweep } from "./outbox-sweep.js";

export interface RelayOptions {
  /** Commands (outbox reads, acks, SCAN). */
  readonly redis: RedisClient;
  /** Its own connection for the blocking pop on the ready list (blocked most of the time). */
  readonly blocking: RedisClient;
  readonly queue: Queue<FlowJobData>;
  /** Where intents whose jobs call out go (flow-queue.ts `callsOut`); default `queue`. */
  readonly outboundQueue?: Queue<FlowJobData>;
  readonly keys: Keys;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Outbox sweep period, default 2000 ms (catches wake-ups lost in a crash). */
  readonly sweepIntervalMs?: number;
  /**
   * Keys one sweep tick may examine (SCAN COUNT × calls), default 20,000: the sweep walks the
   * keyspace incrementally, so its cost per tick stays bounded however many keys Redis holds.
   */
  readonly sweepKeysPerTick?: number;
  readonly backoffMs?: number;
  /**
   * No `WEBHOOK_SUBSCRIBERS`: notification intents are acked without becoming jobs (the job
   * would find no one to notify). Saves two BullMQ jobs per step in that setup.
   */
  readonly dropNotify?: boolean;
}

export interface Relay {
  /** Relays an account's outbox soon (in-process wake-up). */
  wake(accountId: string): void;
  /**
   * Moves outbox values this process just committed straight to the queue, then acks them (no
   * outbox read, no ready-list hop); on failure they stay in the outbox for a wake-up or the sweep.
   * False once the relay is closing: the caller then wakes a relay elsewhere (the ready list).
   */
  relayCommitted(accountId: string, values: readonly string[]): boolean;
  /** Moves an account's outbox into BullMQ now; resolves with the number of intents moved. */
  relayAccount(accountId: string): Promise<number>;
  /**
   * One paced step of the background sweep: when this process holds the sweep lease, examines
   * up to `sweepKeysPerTick` more keys (resuming where the last step stopped) and relays the
   * outboxes found. Resolves with the number of intents moved.
   */
  sweepStep(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The jobs an intent becomes. Jobs carry ids only: the analytics events an intent carries stay
 * out of the queue. A step entered by a decision (not by a transition) also gets its
 * step.entered notification here, with the notification's deterministic id.
 */
function jobsOf(intent: OutboxIntent, dropNotify: boolean): OutboxIntent[] {
  if (intent.kind === "notify") return dropNotify ? [] : [intent];
  if (intent.kind !== "step.enter" || (!intent.analytics && !intent.announce && !intent.cancel))
    return [intent];
  const { analytics: _events, announce, cancel: _cancel, ...step } = intent;
  return announce && !dropNotify ? [step, notifyIntent(step, "step.entered", step.stepId)] : [step];
}

/** Outbox intents read per round trip. */
const OUTBOX_BATCH = 500;
/** Ready-list entries taken per round trip. */
const READY_BATCH = 256;
/** Accounts whose failed relay is retried each second; more are left to the sweep. */
const RETRY_MAX = 10_000;
/** Starts the outbox relay: ready-list consumer, in-process wake-ups and a periodic sweep. */
export function startRelay(o: RelayOptions): Relay {
  const now = o.now ?? Date.now;
  const running = new Map<string, Promise<number>>();
  const again = new Set<string>();
  const committing = new Set<Promise<void>>();
  let closed = false;

  /**
   * Adds intents as jobs. addBulk is not atomic, but every job id is deterministic: a partial add
   * that is retried skips the jobs already there, and processors no-op on a stale rev.
   */
  const enqueue = async (withAnalytics: readonly OutboxIntent[]): Promise<void> => {
    const t = now();
    // A flow switch in this batch cancels the old flow's jobs: those still queued are removed,
    // and those whose intents ride in this same batch are not queued at all.
    const cancelled = new Set(withAnalytics.flatMap((i) => (i.kind === "step.enter" && i.cancel) || []));
    const intents = withAnalytics
      .flatMap((i) => jobsOf(i, o.dropNotify === true))
      .filter((i) => cancelled.size === 0 || !cancelled.has(i.id));
    const analytics = appendCarriedAnalytics(withAnalytics);
    const outbound = o.outboundQueue ? intents.filter(callsOut) : [];
    const local = outbound.length > 0 ? intents.filter((i) => !callsOut(i)) : intents;
    await cancelJobs(cancelled);
    await Promise.all([
      addAll(o.queue, local, t),
      o.outboundQueue ? addAll(o.outboundQueue, outbound, t) : undefined,
      analytics,
    ]);
  };
  /**
   * Removes the jobs a flow switch left behind (queued, not running: a running one is locked and
   * ends as a stale no-op). Before the adds, so an id the new flow reuses is not removed.
   */
  const cancelJobs = async (ids: ReadonlySet<string>): Promise<void> => {
    if (ids.size === 0) return;
    const queues = o.outboundQueue ? [o.queue, o.outboundQueue] : [o.queue];
    await Promise.all([...ids].flatMap((id) => queues.map((q) => q.remove(id).catch(() => 0))));
  };
  const addAll = async (queue: Queue<FlowJobData>, intents: readonly OutboxIntent[], t: number) => {
    if (intents.length === 0) return;
    if (intents.length === 1) {
      const intent = intents[0]!;
      await queue.add(intent.kind, intent, jobOptions(intent, t, o.backoffMs));
    } else
      await queue.addBulk(
        intents.map((intent) => ({
          name: intent.kind,
          data: intent,
          opts: jobOptions(intent, t, o.backoffMs),
        })),
      );
  };

  /**
   * The route's decision events ride in its outbox intent (written atomically with the instance),
   * so the request path pays nothing for them. At least once: a crash between this append and
   * the outbox ack appends them again.
   */
  const appendCarriedAnalytics = async (intents: readonly OutboxIntent[]): Promise<void> => {
    const events: AnalyticsEvent[] = [];
    for (const i of intents) if (i.kind === "step.enter" && i.analytics) events.push(...i.analytics);
    await queueAnalytics({ redis: o.redis, keys: o.keys, logger: o.logger }, events);
  };

  const moveOnce = async (accountId: string): Promise<number> => {
    let moved = 0;
    for (;;) {
      const batch = await readOutbox(o, accountId, OUTBOX_BATCH);
      if (batch.length === 0) return moved;
      await enqueue(batch.map((b) => b.intent));
      await ackOutbox(
        o,
        accountId,
        batch.map((b) => b.value),
      );
      moved += batch.length;
      // A short batch was the whole outbox; later appends wake the relay again (`again`).
      if (batch.length < OUTBOX_BATCH) return moved;
    }
  };

  // Intents committed by this process, gathered over one event-loop turn: one addBulk moves them
  // all, then each account's outbox is acked.
  let committed: { accountId: string; values: readonly string[] }[] = [];
  const flushCommitted = async () => {
    const batch = committed;
    committed = [];
    try {
      await enqueue(batch.flatMap((b) => b.values.map((v) => JSON.parse(v) as OutboxIntent)));
    } catch (e) {
      o.logger.warn({ err: String(e) }, "outbox relay failed; retrying from the outbox");
      for (const b of batch) wake(b.accountId);
      return;
    }
    // Not acked: the outbox still holds them; relaying them again finds their jobs already there.
    for (const accountId of await ackOutboxes(o, batch)) wake(accountId);
  };
  const relayCommitted = (accountId: string, values: readonly string[]) => {
    if (closed) return false;
    if (values.length === 0) return true;
    committed.push({ accountId, values });
    if (committed.length > 1) return true;
    const p: Promise<void> = new Promise<void>((r) => setImmediate(r))
      .then(flushCommitted)
      .finally(() => committing.delete(p));
    committing.add(p);
    return true;
  };

  const relayAccount = (accountId: string): Promise<number> => {
    const current = running.get(accountId);
    if (current) {
      again.add(accountId);
      return current;
    }
    const p = (async () => {
      let total = 0;
      try {
        do {
          again.delete(accountId);
          total += await moveOnce(accountId);
        } while (again.has(accountId) && !closed);
      } finally {
        running.delete(accountId);
      }
      return total;
    })();
    running.set(accountId, p);
    return p;
  };

  /** A closed relay hands wake-ups back to the ready list: another relay (or the next start) takes them. */
  const requeue = (accountId: string) => {
    o.redis.lpush(o.keys.global.ready, accountId).catch(() => {});
  };

  // Accounts whose relay failed (Redis away or failing over) are tried again each second: left to
  // the paced sweep, one account routed just before an outage waited 42 s on a 140k-key Redis.
  // Bounded: past RETRY_MAX accounts the sweep has the rest.
  const retry = new Set<string>();
  let retryWarned = 0;
  const wake = (accountId: string) => {
    if (closed) {
      requeue(accountId);
      return;
    }
    relayAccount(accountId).catch((e) => {
      if (retry.size < RETRY_MAX) retry.add(accountId);
      if (Date.now() - retryWarned < 1_000) return; // one line a second in an outage, not one per account
      retryWarned = Date.now();
      o.logger.warn({ err: String(e), retrying: retry.size }, "outbox relay failed; retrying each second");
    });
  };
  const retryTimer = setInterval(() => {
    const due = [...retry];
    retry.clear();
    for (const accountId of due) wake(accountId);
  }, 1_000);
  retryTimer.unref?.();

  let reading = true;
  const listen = async () => {
    while (reading) {
      try {
        // Up to READY_BATCH wake-ups per round trip (BLMPOP, Redis 7): under load the API
        // pushes one per first route, faster than one BRPOP per entry could drain them.
        const got = await o.blocking.blmpop(1, 1, [o.keys.global.ready], "RIGHT", "COUNT", READY_BATCH);
        if (got) for (const accountId of new Set(got[1])) wake(accountId);
      } catch (e) {
        if (!reading) return;
        o.logger.warn({ err: String(e) }, "ready-list read failed");
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  };

  const sweeper = outboxSweep({
    redis: o.redis,
    keys: o.keys,
    relayAccount,
    intervalMs: o.sweepIntervalMs ?? 2000,
    keysPerTick: o.sweepKeysPerTick ?? 20_000,
    stopped: () => closed,
  });

  const listening = listen();
  let sweeping: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    sweeping = sweeper.step().catch((e) => o.logger.warn({ err: String(e) }, "outbox sweep failed"));
  }, o.sweepIntervalMs ?? 2000);
  timer.unref?.();

  return {
    wake,
    relayCommitted,
    relayAccount,
    sweepStep: sweeper.step,
    async close() {
      clearInterval(timer);
      clearInterval(retryTimer);
      // Let the ready-list read in flight return (it blocks ≤ 1 s) and relay what it popped:
      // cutting the connection would drop a popped batch, leaving those accounts to the sweep.
      reading = false;
      await Promise.race([listening, new Promise((r) => setTimeout(r, 1_500).unref())]);
      o.blocking.disconnect();
      closed = true;
      await Promise.allSettled([...running.values(), ...committing, sweeping]);
      for (const accountId of [...again, ...retry]) requeue(accountId);
      await sweeper.release();
    },
  };
}
