/**
 * Flow engine figures on a given Redis: state change → job start latency at idle (p50/p99),
 * delayed-step lateness (p99), and step jobs/s against a bare BullMQ no-op worker in the same run.
 * Run: `npx tsx test/bench/flow.ts redis://127.0.0.1:<port>` (never the shared 6379).
 */
import { pathToFileURL } from "node:url";
import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { OutboundConfig } from "../../src/adapters/outbound/sender.js";
import { createFlowQueue, type FlowJobData, jobOptions } from "../../src/adapters/queue/flow-queue.js";
import type { RedisClient } from "../../src/adapters/redis/connect.js";
import { loadInstance, readHistory } from "../../src/adapters/redis/flow-store.js";
import { encodeInstance } from "../../src/adapters/redis/instance-codec.js";
import type { Keys } from "../../src/adapters/redis/keys.js";
import { type InstanceState, stepJobId } from "../../src/core/flow/instance.js";
import { noTelemetry, silentLogger, systemClock } from "../../src/core/ports.js";
import type { RulesRuntime } from "../../src/core/rules-runtime.js";
import type { FlowDefinition } from "../../src/core/ruleset/schemas.js";
import { generateWebhookSecret, parseWebhookSecrets } from "../../src/core/signing/standard-webhooks.js";
import { startWorkers } from "../../src/worker/index.js";
import {
  callThenHoldFlow,
  connect,
  createInstance,
  memoryRules,
  startReceiver,
  testKeys,
  until,
} from "../integration/flow-support.js";

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
/** Worker concurrency of both the flow worker and the bare BullMQ worker. */
const CONCURRENCY = Number(process.env.BENCH_FLOW_CONCURRENCY ?? 16);
const round = (x: number) => Math.round(x * 100) / 100;

/** The throughput runs' flow: each step job arms a 1-week wait (one delayed job, one CAS). */
export const STEADY_STATE_FLOW: FlowDefinition = {
  id: "bench-tp",
  name: "bench",
  reroute: "never",
  steps: [
    { id: "pause", type: "wait", title: "Pause", duration: "P7D" },
    { id: "end", type: "end", title: "End" },
  ],
};

export async function benchFlow(redisUrl: string): Promise<Record<string, number>> {
  const secrets = parseWebhookSecrets(generateWebhookSecret());
  if (!secrets.ok) throw new Error("secret");
  const arrivals = new Map<string, number>();
  const receiver = await startReceiver((r) => {
    if (r.body.type === "step.action") arrivals.set(String(r.body.instanceId), performance.now());
    return 200;
  });
  const actionFlow = callThenHoldFlow("bench-action", `${receiver.url}/act`);
  const delayFlow: FlowDefinition = {
    id: "bench-delay",
    name: "bench",
    reroute: "never",
    steps: [
      { id: "pause", type: "wait", title: "Pause", duration: "PT200S" },
      { id: "hold", type: "wait", title: "Hold", event: "never", timeout: "P30D", onTimeout: "end" },
      { id: "end", type: "end", title: "End" },
    ],
  };
  const rules = await memoryRules([
    { flow: STEADY_STATE_FLOW, version: 1 },
    { flow: actionFlow, version: 1 },
    { flow: delayFlow, version: 1 },
  ]);
  const k = testKeys();
  const redis = await connect(redisUrl);
  const queueName = `bench-flow-${Date.now()}`;
  const workers = await startWorkers({
    redisTarget: { urls: [redisUrl], cluster: false },
    keys: k,
    queuePrefix: `{${k.prefix}q}`,
    queueName,
    rules,
    clock: systemClock,
    logger: silentLogger,
    telemetry: noTelemetry,
    outbound: { secrets: secrets.value, allowedHosts: ["127.0.0.1"], subscribers: [] },
    durationScale: 0.001, // PT200S → 200 ms
    concurrency: CONCURRENCY,
  });
  const out: Record<string, number> = {};
  try {
    // 1. Idle latency: instance written (state change) → its action job's HTTP call arrives.
    const lat: number[] = [];
    for (let i = 0; i < 200; i++) {
      const id = `fi_lat${i}`;
      const t0 = performance.now();
      await createInstance(redis, k, { accountId: `lat${i}`, instanceId: id, flow: actionFlow });
      workers.wake(`lat${i}`);
      await until(async () => arrivals.get(id), 5000, "action call");
      lat.push(arrivals.get(id)! - t0);
    }
    out.startLatencyP50Ms = round(pct(lat, 50));
    out.startLatencyP99Ms = round(pct(lat, 99));

    // 2. Delayed-step lateness: 200 ms waits created together; lateness = completed − (created + 200 ms),
    //    so it includes the step.enter job that arms the timer.
    const n = 100;
    for (let i = 0; i < n; i++) {
      await createInstance(redis, k, { accountId: `del${i}`, instanceId: `fi_del${i}`, flow: delayFlow });
      workers.wake(`del${i}`);
    }
    const late: number[] = [];
    for (let i = 0; i < n; i++) {
      await until(async () => {
        const s = await loadInstance({ redis, keys: k }, `del${i}`, `fi_del${i}`);
        return s?.stepId === "hold" ? s : undefined;
      }, 10_000);
      const h = await readHistory({ redis, keys: k }, `del${i}`, `fi_del${i}`);
      const done = h.find((e) => e.type === "step.completed" && e.stepId === "pause");
      const enteredAt = Date.parse(h[0]!.at);
      late.push(Date.parse(done!.at) - (enteredAt + 200));
    }
    out.delayLatenessP99Ms = round(pct(late, 99));
  } finally {
    await workers.close();
  }
  try {
    // 3. Throughput, steady state: N instances already exist with their step.enter job waiting in
    //    BullMQ (what the relay leaves behind); then the real worker (relay in-process) runs them all.
    //    Each job loads the instance, commits one CAS transition (arming a 1-week wait → one outbox
    //    intent), and relays that intent to BullMQ as a delayed job. The bare worker gets the same N
    //    jobs pre-added and the same concurrency; both are timed from worker start to the last completion.
    //    Runs alternate (3 each) and the medians are reported: the two cores are shared.
    const m = Number(process.env.BENCH_FLOW_STEPS ?? 5000);
    //    A third reference, bare consume+produce, is the BullMQ floor of any step that schedules
    //    its next step as a job: a no-op worker that adds one delayed job per job it runs
    //    (batched per event-loop turn, as the relay does), with no state at all.
    const flowRuns: RunFigures[] = [];
    const bareRuns: RunFigures[] = [];
    const produceRuns: RunFigures[] = [];
    for (let r = 0; r < 3; r++) {
      flowRuns.push(
        await stepThroughput(redisUrl, k, rules, secrets.value, STEADY_STATE_FLOW, m, `tp${r}-`, false),
      );
      bareRuns.push(await bareThroughput(redisUrl, k, m, false));
      produceRuns.push(await bareThroughput(redisUrl, k, m, false, true));
    }
    const tp = median(flowRuns);
    const bare = median(bareRuns);
    const produce = median(produceRuns);
    out.flowStepJobsPerSec = Math.round(tp.rate);
    out.bareJobsPerSec = Math.round(bare.rate);
    out.flowToBareRatio = round(tp.rate / bare.rate);
    out.bareProduceJobsPerSec = Math.round(produce.rate);
    out.bareProduceToBareRatio = round(produce.rate / bare.rate);
    out.flowToBareProduceRatio = round(tp.rate / produce.rate);
    out.flowRedisCmdsPerStep = round(tp.commands / m);
    out.bareRedisCmdsPerJob = round(bare.commands / m);
    out.flowRedisCpuMsPerStep = round(tp.redisCpuMs / m);
    out.bareRedisCpuMsPerJob = round(bare.redisCpuMs / m);
    out.flowNodeCpuMsPerStep = round(tp.nodeCpuMs / m);
    out.bareNodeCpuMsPerJob = round(bare.nodeCpuMs / m);

    // 4. Commands clients send per step (MONITOR on, so untimed; a pipeline counts each command).
    const small = 500;
    const mon = await stepThroughput(
      redisUrl,
      k,
      rules,
      secrets.value,
      STEADY_STATE_FLOW,
      small,
      "mon",
      true,
    );
    const bareMon = await bareThroughput(redisUrl, k, small, true);
    out.flowClientCmdsPerStep = round(mon.clientCommands / small);
    out.bareClientCmdsPerJob = round(bareMon.clientCommands / small);
  } finally {
    await receiver.close();
    redis.disconnect();
  }
  return out;
}

/** redis-server CPU seconds so far (user + sys). */
async function redisCpu(redis: RedisClient): Promise<number> {
  const info = await redis.info("cpu");
  const get = (f: string) => Number(new RegExp(`^${f}:([\\d.]+)`, "m").exec(info)?.[1] ?? 0);
  return get("used_cpu_user") + get("used_cpu_sys");
}

/** Sums `calls` over INFO commandstats. */
async function commandCalls(redis: RedisClient): Promise<number> {
  const info = await redis.info("commandstats");
  let total = 0;
  for (const m of info.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) total += Number(m[1]);
  return total;
}

/** The run with the median rate. */
const median = (runs: readonly RunFigures[]): RunFigures =>
  [...runs].sort((a, b) => a.rate - b.rate)[Math.floor(runs.length / 2)]!;

interface RunFigures {
  readonly rate: number;
  /** Every command Redis ran (commandstats, scripts' inner calls included). */
  readonly commands: number;
  /** Commands sent by clients (MONITOR lines not from Lua); only when monitored. */
  readonly clientCommands: number;
  /** CPU ms of redis-server and of this process (the worker runs in it) over the run. */
  readonly redisCpuMs: number;
  readonly nodeCpuMs: number;
}

/** Watches a run: commandstats deltas, and with `monitor` the client-sent commands. */
async function watch(redisUrl: string, monitor: boolean) {
  const admin = await connect(redisUrl);
  let clientCommands = 0;
  let mon: { disconnect(): void } | undefined;
  if (monitor) {
    const m = await (admin as Redis).monitor();
    m.on("monitor", (_time: string, _args: string[], source: string) => {
      if (source !== "lua") clientCommands++;
    });
    mon = m;
  }
  const stats = await connect(redisUrl);
  await stats.config("RESETSTAT");
  const cpu0 = await redisCpu(stats);
  const node0 = process.cpuUsage();
  return {
    async stop() {
      const node = process.cpuUsage(node0);
      const redisCpuMs = ((await redisCpu(stats)) - cpu0) * 1000;
      const commands = await commandCalls(stats);
      mon?.disconnect();
      admin.disconnect();
      stats.disconnect();
      return { commands, clientCommands, redisCpuMs, nodeCpuMs: (node.user + node.system) / 1000 };
    },
  };
}

/** Writes n instances at their first step, pipelined, and queues their step.enter jobs (addBulk). */
async function seedInstances(
  redis: RedisClient,
  k: Keys,
  queue: Queue<FlowJobData>,
  flow: FlowDefinition,
  n: number,
  tag: string,
): Promise<void> {
  const now = Date.now();
  const first = flow.steps[0]!;
  const at = new Date(now).toISOString();
  for (let b = 0; b < n; b += 500) {
    const p = redis.pipeline();
    const jobs: { name: string; data: FlowJobData; opts: ReturnType<typeof jobOptions> }[] = [];
    for (let i = b; i < Math.min(n, b + 500); i++) {
      const accountId = `${tag}${i}`;
      const s: InstanceState = {
        id: `fi_${tag}${i}`,
        accountId,
        subject: "",
        flowId: flow.id,
        flowVersion: 1,
        rulesetVersion: 1,
        status: "active",
        stepId: first.id,
        stepStatus: "pending",
        stepEnteredAt: now,
        rev: 1,
        attempt: 0,
        createdAt: now,
        updatedAt: now,
        decisionId: "dec_bench",
        factsKey: "bench",
        reasons: [],
        input: { answers: {} },
        entered: [first.id],
      };
      p.hset(k.account.meta(accountId), "createdAt", String(now));
      p.hset(k.account.subjects(accountId), s.subject, s.id);
      p.hset(k.account.instance(accountId, s.id), encodeInstance(s));
      p.rpush(
        k.account.history(accountId, s.id),
        JSON.stringify({ at, type: "started", detail: { flow: flow.id } }),
        JSON.stringify({ at, type: "step.entered", stepId: first.id }),
      );
      const intent: FlowJobData = {
        id: stepJobId(s.id, first.id, 1),
        kind: "step.enter",
        accountId,
        instanceId: s.id,
        stepId: first.id,
        rev: 1,
        runAt: 0,
      };
      jobs.push({ name: intent.kind, data: intent, opts: jobOptions(intent, now) });
    }
    await p.exec();
    await queue.addBulk(jobs);
  }
}

export async function stepThroughput(
  redisUrl: string,
  k: Keys,
  rules: RulesRuntime,
  secrets: OutboundConfig["secrets"],
  flow: FlowDefinition,
  n: number,
  tag: string,
  monitor: boolean,
  /** Wraps only the worker's run, after seeding (test/bench/flow-profile.ts starts a CPU profile). */
  around?: { start(): Promise<void>; stop(): Promise<void> },
): Promise<RunFigures> {
  const redis = await connect(redisUrl);
  const prefix = `{${k.prefix}q}`;
  const name = `bench-${tag}-${Date.now()}`;
  const queue = createFlowQueue({ connection: redis, prefix, name });
  await seedInstances(redis, k, queue, flow, n, tag);
  await around?.start();
  const w = await watch(redisUrl, monitor);
  const t0 = performance.now();
  const workers = await startWorkers({
    redisTarget: { urls: [redisUrl], cluster: false },
    keys: k,
    queuePrefix: prefix,
    queueName: name,
    rules,
    clock: systemClock,
    logger: silentLogger,
    telemetry: noTelemetry,
    outbound: { secrets, allowedHosts: ["127.0.0.1"], subscribers: [] },
    durationScale: 0.001,
    concurrency: CONCURRENCY,
  });
  try {
    await until(async () => ((await queue.getCompletedCount()) >= n ? true : undefined), 120_000, tag);
    const seconds = (performance.now() - t0) / 1000;
    const figures = await w.stop();
    await around?.stop();
    // Every instance armed its wait exactly once, and every timer job is queued.
    for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 50))) {
      const s = await loadInstance({ redis, keys: k }, `${tag}${i}`, `fi_${tag}${i}`);
      if (s?.stepStatus !== "waiting" || s.rev !== 2) throw new Error(`${tag}${i} not waiting at rev 2`);
    }
    await until(async () => ((await queue.getDelayedCount()) >= n ? true : undefined), 10_000, "timer jobs");
    return { rate: n / seconds, ...figures };
  } finally {
    await workers.close();
    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
  }
}

/**
 * A bare BullMQ worker with a no-op processor over n pre-added jobs. With `produce`, each job
 * also adds one delayed job to a second queue (batched per event-loop turn with addBulk, with the
 * relay's job options): what BullMQ alone costs a step that schedules its next step.
 */
async function bareThroughput(
  redisUrl: string,
  k: Keys,
  n: number,
  monitor: boolean,
  produce = false,
): Promise<RunFigures> {
  const redis = await connect(redisUrl);
  const prefix = `{${k.prefix}q}`;
  const name = `bench-bare-${Date.now()}`;
  const queue = new Queue(name, { connection: redis as never, prefix });
  const outConn = await connect(redisUrl);
  const out = new Queue<FlowJobData>(`${name}-out`, { connection: outConn as never, prefix });
  let pending: { name: string; data: FlowJobData; opts: ReturnType<typeof jobOptions> }[] = [];
  let flushing: Promise<unknown> | undefined;
  const schedule = (i: number) => {
    const data: FlowJobData = {
      id: `t-${i}`,
      kind: "step.timer",
      accountId: `bare${i}`,
      instanceId: `fi_bare${i}`,
      stepId: "pause",
      rev: 2,
      timer: "wait.elapsed",
      runAt: Date.now() + 7 * 86_400_000,
    };
    pending.push({ name: data.kind, data, opts: jobOptions(data, Date.now()) });
    flushing ??= new Promise((r) => setImmediate(r)).then(() => {
      const batch = pending;
      pending = [];
      flushing = undefined;
      return out.addBulk(batch);
    });
  };
  for (let i = 0; i < n; i += 500)
    await queue.addBulk(
      Array.from({ length: Math.min(500, n - i) }, (_, j) => ({
        name: "noop",
        data: { i: i + j },
        opts: { jobId: `b-${i + j}` },
      })),
    );
  const conn = await connect(redisUrl);
  const w = await watch(redisUrl, monitor);
  let done = 0;
  const t0 = performance.now();
  const worker = new Worker(
    name,
    async (job) => {
      if (produce) schedule(job.data.i as number);
      done++;
    },
    { connection: conn as never, prefix, concurrency: CONCURRENCY },
  );
  try {
    await until(async () => (done >= n ? true : undefined), 120_000, "bare run");
    const seconds = (performance.now() - t0) / 1000;
    const figures = await w.stop();
    await flushing;
    if (produce)
      await until(
        async () => ((await out.getDelayedCount()) >= n ? true : undefined),
        10_000,
        "produced jobs",
      );
    return { rate: n / seconds, ...figures };
  } finally {
    await worker.close();
    await flushing;
    await queue.obliterate({ force: true });
    await queue.close();
    await out.obliterate({ force: true });
    await out.close();
    conn.disconnect();
    outConn.disconnect();
    redis.disconnect();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const url = process.argv[2] ?? process.env.BENCH_REDIS_URL;
  if (!url) throw new Error("usage: tsx test/bench/flow.ts redis://127.0.0.1:<port>");
  console.log(JSON.stringify(await benchFlow(url), null, 2));
  process.exit(0);
}
