import { type JobsOptions, Queue } from "bullmq";
import type { OutboxIntent } from "../../core/flow/instance.js";
import type { RedisClient } from "../redis/connect.js";

/** Default BullMQ prefix: a hash tag keeps every queue key in one Cluster slot. */
export const DEFAULT_QUEUE_PREFIX = "{or}";
export const DEFAULT_QUEUE_NAME = "flow";

/**
 * Jobs that call out over HTTP (action steps, subscriber notifications) run in their own queue
 * next to the flow queue (same prefix, so the same Cluster slot), with their own worker: a slow
 * or failing receiver then holds only those slots, never the timer, wait, task and re-decision
 * jobs that move every other instance on.
 */
export const outboundQueueName = (flowQueueName: string) => `${flowQueueName}-outbound`;

/** Whether an intent's job calls out over HTTP (and so runs on the outbound queue). */
export const callsOut = (intent: OutboxIntent): boolean =>
  intent.kind === "notify" || (intent.kind === "step.enter" && intent.callsOut === true);
/** Attempts for step jobs; an action's own `retries` (default 3) ends it sooner. */
export const STEP_ATTEMPTS = 11;

export type FlowJobData = OutboxIntent;

export interface FlowQueueOptions {
  readonly connection: RedisClient;
  readonly prefix?: string;
  readonly name?: string;
  /** First retry delay (exponential, with jitter). Default 1000 ms. */
  readonly backoffMs?: number;
}

export function createFlowQueue(o: FlowQueueOptions): Queue<FlowJobData> {
  const queue = new Queue<FlowJobData>(o.name ?? DEFAULT_QUEUE_NAME, {
    connection: o.connection as never,
    prefix: o.prefix ?? DEFAULT_QUEUE_PREFIX,
  });
  // Without a listener BullMQ prints each connection error as a multi-line console.error (dozens
  // in a short outage). An outage shows in /readyz, the 503s and the callers' own errors instead.
  queue.on("error", () => {});
  return queue;
}

/** Job options for an intent: its deterministic id, its delay and how it retries. */
export function jobOptions(intent: OutboxIntent, now: number, backoffMs = 1000): JobsOptions {
  const attempts = intent.kind === "step.enter" ? STEP_ATTEMPTS : intent.kind === "notify" ? 8 : 5;
  return {
    jobId: intent.id,
    delay: Math.max(0, intent.runAt - now),
    attempts,
    backoff: { type: "exponential", delay: backoffMs, jitter: 0.5 },
    // Completed jobs stay a day: while they exist a re-relayed intent with the same id is ignored.
    removeOnComplete: { age: 86_400, count: 50_000 },
    removeOnFail: { age: 7 * 86_400 },
    // A burst of handovers for one account re-decides it at most twice (one run, one queued with
    // the latest), not once per handover: one busy account's backlog held up every other
    // account's re-decision well past the contract's 5 s. A queued run reads the latest handover.
    ...(intent.kind === "account.redecide"
      ? { deduplication: { id: `redecide-${intent.accountId}`, keepLastIfActive: true } }
      : {}),
  };
}
