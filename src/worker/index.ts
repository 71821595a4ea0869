import { type Job, Worker } from "bullmq";
import type { OutboundConfig } from "../adapters/outbound/sender.js";
import {
  createFlowQueue,
  DEFAULT_QUEUE_NAME,
  DEFAULT_QUEUE_PREFIX,
  type FlowJobData,
  outboundQueueName,
} from "../adapters/queue/flow-queue.js";
import { type Relay, startRelay } from "../adapters/queue/relay.js";
import { connectRedis, createRedis, type RedisTarget } from "../adapters/redis/connect.js";
import type { FlowStoreDeps } from "../adapters/redis/flow-store.js";
import { tallyJobOutcomes } from "../adapters/redis/job-outcomes.js";
import type { Keys } from "../adapters/redis/keys.js";
import type { Clock, Logger, Telemetry } from "../core/ports.js";
import type { RulesRuntime } from "../core/rules-runtime.js";
import type { RouterServices } from "../http/services.js";
import type { WorkerContext } from "./context.js";
import { processRedecide } from "./processors/account-redecide.js";
import { processNotify } from "./processors/notify.js";
import { GONE, processStepEnter } from "./processors/step-enter.js";
import { processStepTimer } from "./processors/step-timer.js";

/** How long active jobs may run on after a shutdown stops taking new ones: past a call out's 5 s timeout. */
const JOB_GRACE_MS = 6_000;

export interface WorkerOptions {
  readonly redisTarget: RedisTarget;
  readonly keys: Keys;
  readonly queuePrefix?: string;
  readonly queueName?: string;
  readonly rules: RulesRuntime;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  readonly outbound: OutboundConfig;
  readonly concurrency?: number;
  readonly stalledIntervalMs?: number;
  /** How long a job's lock lives without renewal (a crashed worker's job is retried after it); default 10 s. */
  readonly lockDurationMs?: number;
  /** First retry delay of failed jobs (exponential with jitter), default 1000 ms. */
  readonly backoffMs?: number;
  /** Multiplies flow delays (tests, benches). */
  readonly durationScale?: number;
  readonly sweepIntervalMs?: number;
  /** For the route store's re-decisions; default 30 days. */
  readonly decisionTtlSeconds?: number;
  /** `FLOW_SECRET_<NAME>` lookup; default process.env. */
  readonly secret?: (name: string) => string | undefined;
}

export interface RunningWorkers {
  readonly relay: Relay;
  wake(accountId: string): void;
  /** How many flow jobs run at once from now on (the configured value is `concurrency`). */
  setConcurrency(n: number): void;
  readonly concurrency: number;
  /** Stops taking new jobs and lets the active ones run on (idempotent); the relay keeps working. */
  stopTakingJobs(): void;
  /**
   * Stops taking jobs, lets active ones finish (≤ 6 s from the first stop, so a call out, which
   * times out at 5 s, ends first), relays what is pending (≤ 1.5 s), closes connections.
   */
  close(): Promise<void>;
}

/** Starts the outbox relay and the BullMQ worker that runs flow jobs. */
export async function startWorkers(opts: WorkerOptions): Promise<RunningWorkers> {
  const redis = createRedis(opts.redisTarget, "queue");
  const blocking = createRedis(opts.redisTarget, "queue");
  const queueConn = createRedis(opts.redisTarget, "queue");
  const workerConn = createRedis(opts.redisTarget, "queue");
  const outboundConn = createRedis(opts.redisTarget, "queue");
  await Promise.all([
    connectRedis(redis),
    connectRedis(blocking),
    connectRedis(queueConn),
    connectRedis(workerConn),
    connectRedis(outboundConn),
  ]);
  const prefix = opts.queuePrefix ?? DEFAULT_QUEUE_PREFIX;
  const name = opts.queueName ?? DEFAULT_QUEUE_NAME;
  const queue = createFlowQueue({ connection: queueConn, prefix, name });
  const outboundQueue = createFlowQueue({ connection: queueConn, prefix, name: outboundQueueName(name) });

  let relay: Relay | undefined;
  const wake = (accountId: string) => relay?.wake(accountId);
  const store: FlowStoreDeps = {
    redis,
    keys: opts.keys,
    rules: opts.rules,
    clock: opts.clock,
    wake,
    relay: (accountId, values) => relay?.relayCommitted(accountId, values) ?? false,
    ...(opts.durationScale !== undefined ? { durationScale: opts.durationScale } : {}),
  };
  relay = startRelay({
    redis,
    blocking,
    queue,
    outboundQueue,
    keys: opts.keys,
    logger: opts.logger,
    now: () => opts.clock.now().getTime(),
    ...(opts.sweepIntervalMs !== undefined ? { sweepIntervalMs: opts.sweepIntervalMs } : {}),
    ...(opts.backoffMs !== undefined ? { backoffMs: opts.backoffMs } : {}),
    dropNotify: opts.outbound.subscribers.length === 0,
  });
  const services: RouterServices = {
    redis,
    keys: opts.keys,
    rules: opts.rules,
    settings: {
      decisionTtlSeconds: opts.decisionTtlSeconds ?? 30 * 86_400,
      handoverSecrets: [],
      hubspotClientSecret: undefined,
      salesforce: undefined,
      publicBaseUrl: undefined,
    },
    clock: opts.clock,
    logger: opts.logger,
    telemetry: opts.telemetry,
    wakeRelay: wake,
  };
  const ctx: WorkerContext = {
    store,
    outbound: opts.outbound,
    logger: opts.logger,
    telemetry: opts.telemetry,
    services,
    secret: opts.secret ?? ((n) => process.env[`FLOW_SECRET_${n}`]),
  };

  const concurrency = opts.concurrency ?? 16;
  const workerOptions = {
    prefix,
    concurrency,
    stalledInterval: opts.stalledIntervalMs ?? 5_000,
    lockDuration: opts.lockDurationMs ?? 10_000,
    maxStalledCount: 3,
  };
  const worker = new Worker<FlowJobData, string>(name, (job) => dispatch(job, ctx), {
    connection: workerConn as never,
    ...workerOptions,
  });
  const outboundWorker = new Worker<FlowJobData, string>(
    outboundQueueName(name),
    (job) => dispatch(job, ctx),
    {
      connection: outboundConn as never,
      ...workerOptions,
    },
  );
  const tally = tallyJobOutcomes(redis, opts.keys.global.jobOutcomes);
  const jobOutcome = (kind: string, outcome: Parameters<typeof opts.telemetry.job>[1]) => {
    opts.telemetry.job(kind, outcome);
    tally.count(kind, outcome);
  };
  for (const w of [worker, outboundWorker]) {
    w.on("completed", (job, result) => {
      const outcome = typeof result === "string" ? result : "";
      jobOutcome(job.name, /^(stale|skipped)/.test(outcome) ? "skipped" : "completed");
      // A stale step job is often one that a crashed worker had already committed: the intents that
      // commit left in the outbox may never have been relayed, so relay the account now rather than
      // wait for the paced sweep to reach it (an empty outbox costs one read).
      if (/^(stale|skipped:stale)/.test(outcome)) wake(job.data.accountId);
      // The instance was erased while the job ran (an erase cannot remove an active job): its
      // record would keep naming the account for a day (removeOnComplete).
      if (outcome === GONE) job.remove().catch(() => {});
    });
    w.on("failed", (job, e) => {
      const final = job ? job.attemptsMade >= (job.opts.attempts ?? 1) : true;
      jobOutcome(job?.name ?? "unknown", final ? "failed" : "retried");
      opts.logger.warn(
        { job: job?.id, kind: job?.name, attempt: job?.attemptsMade, err: e.message },
        "flow job failed",
      );
    });
    w.on("error", (e) => opts.logger.warn({ err: String(e) }, "flow worker error"));
  }

  let stopping: Promise<void> | undefined;
  let stoppedAt = 0;
  const stopTakingJobs = (): Promise<void> => {
    if (!stopping) {
      stoppedAt = Date.now();
      stopping = Promise.all([worker.close(), outboundWorker.close()]).then(
        () => {},
        () => {}, // a close that fails leaves nothing to wait for: connections are cut next
      );
    }
    return stopping;
  };

  return {
    relay,
    wake,
    concurrency,
    setConcurrency(n) {
      for (const w of [worker, outboundWorker]) if (w.concurrency !== n) w.concurrency = n;
    },
    stopTakingJobs,
    async close() {
      // Jobs still running 6 s after the stop are handed back: their lock lapses and another
      // worker runs them again (idempotency keys keep effects single). The exit must fit in 10 s.
      const drained = stopTakingJobs();
      const left = Math.max(0, JOB_GRACE_MS - (Date.now() - stoppedAt));
      await Promise.race([drained, new Promise<void>((r) => setTimeout(r, left).unref())]);
      await relay?.close();
      await Promise.race([tally.close(), new Promise<void>((r) => setTimeout(r, 500).unref())]);
      await Promise.all([queue.close(), outboundQueue.close()]);
      for (const c of [redis, queueConn, workerConn, outboundConn]) c.disconnect();
    },
  };
}

function dispatch(job: Job<FlowJobData, string>, ctx: WorkerContext): Promise<string> {
  switch (job.data.kind) {
    case "step.enter":
      return processStepEnter(job as never, ctx);
    case "step.timer":
      return processStepTimer(job as never, ctx);
    case "notify":
      return processNotify(job as never, ctx);
    case "account.redecide":
      return processRedecide(job as never, ctx);
  }
}
