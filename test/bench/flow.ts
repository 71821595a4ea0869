/**
 * Flow engine figures on a given Redis: state change → job start latency at idle (p50/p99),
 * delayed-step lateness (p99), and step jobs/s against a bare BullMQ no-op worker in the same run.
 * Run: `npx tsx test/bench/flow.ts redis://127.0.0.1:<port>` (never the shared 6379).
 */
import { pathToFileURL } from "node:url";
import { Queue, Worker } from "bullmq";
import { loadInstance, readHistory } from "../../src/adapters/redis/flow-store.js";
import { noTelemetry, silentLogger, systemClock } from "../../src/core/ports.js";
import type { FlowDefinition } from "../../src/core/ruleset/schemas.js";
import { generateWebhookSecret, parseWebhookSecrets } from "../../src/core/signing/standard-webhooks.js";
import { startWorkers } from "../../src/worker/index.js";
import {
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
const round = (x: number) => Math.round(x * 100) / 100;

export async function benchFlow(redisUrl: string): Promise<Record<string, number>> {
  const secrets = parseWebhookSecrets(generateWebhookSecret());
  if (!secrets.ok) throw new Error("secret");
  const arrivals = new Map<string, number>();
  const receiver = await startReceiver((r) => {
    if (r.body.type === "step.action") arrivals.set(String(r.body.instanceId), performance.now());
    return 200;
  });
  const actionFlow: FlowDefinition = {
    id: "bench-action",
    name: "bench",
    reroute: "never",
    steps: [
      { id: "call", type: "action", title: "Call", url: `${receiver.url}/act` },
      { id: "hold", type: "wait", title: "Hold", event: "never", timeout: "P30D", onTimeout: "end" },
      { id: "end", type: "end", title: "End" },
    ],
  };
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
    concurrency: 16,
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

    // 3. Throughput: 2000 step.enter jobs (each arms a wait: one CAS transition + outbox) vs a bare no-op worker.
    const m = 2000;
    const t1 = performance.now();
    for (let i = 0; i < m; i++) {
      await createInstance(redis, k, { accountId: `tp${i}`, instanceId: `fi_tp${i}`, flow: delayFlow });
    }
    for (let i = 0; i < m; i++) workers.wake(`tp${i}`);
    await until(
      async () => {
        const s = await loadInstance({ redis, keys: k }, `tp${m - 1}`, `fi_tp${m - 1}`);
        if (s?.stepStatus !== "waiting") return undefined;
        for (let i = 0; i < m; i += 97) {
          const x = await loadInstance({ redis, keys: k }, `tp${i}`, `fi_tp${i}`);
          if (x?.stepStatus !== "waiting") return undefined;
        }
        return true;
      },
      60_000,
      "throughput run",
    );
    // Both rates include enqueueing: instance writes + relay here, addBulk for the bare worker.
    const flowRate = m / ((performance.now() - t1) / 1000);

    const bareQueue = new Queue(`${queueName}-bare`, {
      connection: redis as never,
      prefix: `{${k.prefix}q}`,
    });
    let done = 0;
    const bare = new Worker(
      `${queueName}-bare`,
      async () => {
        done++;
      },
      { connection: (await connect(redisUrl)) as never, prefix: `{${k.prefix}q}`, concurrency: 16 },
    );
    const t2 = performance.now();
    for (let i = 0; i < m; i += 500)
      await bareQueue.addBulk(
        Array.from({ length: 500 }, (_, j) => ({
          name: "noop",
          data: { i: i + j },
          opts: { jobId: `b-${i + j}` },
        })),
      );
    await until(async () => (done >= m ? true : undefined), 60_000, "bare run");
    const bareRate = m / ((performance.now() - t2) / 1000);
    await bare.close();
    await bareQueue.close();
    out.flowStepJobsPerSec = Math.round(flowRate);
    out.bareJobsPerSec = Math.round(bareRate);
    out.flowToBareRatio = round(flowRate / bareRate);
  } finally {
    await workers.close();
    await receiver.close();
    redis.disconnect();
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const url = process.argv[2] ?? process.env.BENCH_REDIS_URL;
  if (!url) throw new Error("usage: tsx test/bench/flow.ts redis://127.0.0.1:<port>");
  console.log(JSON.stringify(await benchFlow(url), null, 2));
  process.exit(0);
}
