/**
 * Scale-out figures: `/v1/route` throughput with 1 vs 2 API processes on a local 3-master Redis
 * Cluster (same run, same load generator), and Redis cost per route and per flow step measured
 * on a private redis-server with `INFO commandstats` / `INFO stats` deltas and `MONITOR` counts.
 * Run alone: `npx tsx test/bench/cluster.ts` (starts its own servers; never the shared 6379).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { pathToFileURL } from "node:url";
import autocannon from "autocannon";
import { loadInstance } from "../../src/adapters/redis/flow-store.js";
import { noTelemetry, silentLogger, systemClock } from "../../src/core/ports.js";
import type { FlowDefinition } from "../../src/core/ruleset/schemas.js";
import { parseWebhookSecrets } from "../../src/core/signing/standard-webhooks.js";
import { startWorkers } from "../../src/worker/index.js";
import { fastTrackAnswers } from "../fixtures/answers.js";
import {
  connect,
  createInstance,
  memoryRules,
  startReceiver,
  testKeys,
  until,
} from "../integration/flow-support.js";
import { TEST_TOKENS, TEST_WEBHOOK_SECRET } from "../support/app.js";
import { type NodeProcess, startNodeProcess } from "../support/processes.js";
import { startCluster } from "../support/redis-cluster.js";
import { startRedis } from "../support/redis-server.js";

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

interface RedisCounters {
  commands: number;
  /** Redis main-thread CPU (user + sys, µs, `INFO cpu`): commands, scripts and network I/O. */
  usec: number;
  inBytes: number;
  outBytes: number;
  /** `used_memory` (bytes). */
  memory: number;
}

/** Sums `INFO commandstats` calls and `INFO stats` net bytes over the given ports. */
async function counters(ports: readonly number[]): Promise<RedisCounters> {
  const total: RedisCounters = { commands: 0, usec: 0, inBytes: 0, outBytes: 0, memory: 0 };
  for (const port of ports) {
    const info = await cli(port, "INFO", "all");
    // Calls include the commands scripts run (Redis 7 counts those in commandstats too).
    for (const m of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)) {
      if (m[1] !== "info") total.commands += Number(m[2]);
    }
    const cpu = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    total.usec += (cpu("used_cpu_user_main_thread") + cpu("used_cpu_sys_main_thread")) * 1e6;
    total.memory += Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? 0);
    total.inBytes += Number(/total_net_input_bytes:(\d+)/.exec(info)?.[1] ?? 0);
    total.outBytes += Number(/total_net_output_bytes:(\d+)/.exec(info)?.[1] ?? 0);
  }
  return total;
}

function cli(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("redis-cli", ["-p", String(port), ...args]);
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.once("error", reject);
    child.once("exit", () => resolve(out));
  });
}

/** `MONITOR` on one server: counts commands clients sent (MULTI/EXEC included) and those scripts ran. */
function monitor(port: number): { stop(): Promise<{ clientCommands: number; inScripts: number }> } {
  const child: ChildProcess = spawn("redis-cli", ["-p", String(port), "MONITOR"]);
  let clientCommands = 0;
  let inScripts = 0;
  let rest = "";
  child.stdout?.on("data", (d: Buffer) => {
    const lines = (rest + d.toString()).split("\n");
    rest = lines.pop() ?? "";
    for (const l of lines) {
      if (l.includes("[0 lua]")) inScripts++;
      else if (/\[\d+ [\d.]+:\d+\]/.test(l)) clientCommands++;
    }
  });
  return {
    stop: async () => {
      await new Promise((r) => setTimeout(r, 200));
      child.kill("SIGKILL");
      return { clientCommands, inScripts };
    },
  };
}

function routeBody(accountId: string): string {
  return JSON.stringify({ accountId, userId: "u", survey: { answers: fastTrackAnswers } });
}

async function post(url: string, body: string): Promise<void> {
  const res = await fetch(`${url}/v1/route`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_TOKENS.api}`, "content-type": "application/json" },
    body,
  });
  if (res.status !== 200) throw new Error(`route answered ${res.status}`);
  await res.arrayBuffer();
}

/** Redis commands, round trips and bytes per `/v1/route` (first request of a subject, then a repeat). */
async function routeCost(port: number, api: NodeProcess): Promise<Record<string, number>> {
  const n = 300;
  const tag = `cost-${Date.now()}`;
  const a = await counters([port]);
  for (let i = 0; i < n; i++) await post(api.url, routeBody(`${tag}-${i}`));
  const b = await counters([port]);
  for (let i = 0; i < n; i++) await post(api.url, routeBody(`${tag}-${i}`));
  const c = await counters([port]);
  const m = 100;
  const mon = monitor(port);
  await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < m; i++) await post(api.url, routeBody(`${tag}-mon-${i}`));
  const newCounts = await mon.stop();
  const mon2 = monitor(port);
  await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < m; i++) await post(api.url, routeBody(`${tag}-mon-${i}`));
  const repeatCounts = await mon2.stop();
  return {
    routeNewCommands: round((b.commands - a.commands) / n),
    routeNewRedisCpuUs: round((b.usec - a.usec) / n, 1),
    routeNewClientCommands: round(newCounts.clientCommands / m),
    routeNewBytesIn: Math.round((b.inBytes - a.inBytes) / n),
    routeNewBytesOut: Math.round((b.outBytes - a.outBytes) / n),
    routeNewMemoryBytes: Math.round((b.memory - a.memory) / n),
    routeRepeatCommands: round((c.commands - b.commands) / n),
    routeRepeatRedisCpuUs: round((c.usec - b.usec) / n, 1),
    routeRepeatClientCommands: round(repeatCounts.clientCommands / m),
    routeRepeatBytesIn: Math.round((c.inBytes - b.inBytes) / n),
    routeRepeatBytesOut: Math.round((c.outBytes - b.outBytes) / n),
  };
}

/** Redis commands and bytes per flow step: workers drive N instances through action → wait → end. */
async function stepCost(redisUrl: string, port: number): Promise<Record<string, number>> {
  const receiver = await startReceiver(() => 200);
  const flow: FlowDefinition = {
    id: "bench-steps",
    name: "bench",
    reroute: "never",
    steps: [
      { id: "call", type: "action", title: "Call", url: `${receiver.url}/act` },
      { id: "pause", type: "wait", title: "Pause", duration: "PT1S" },
      { id: "end", type: "end", title: "End" },
    ],
  };
  const rules = await memoryRules([{ flow, version: 1 }]);
  const secrets = parseWebhookSecrets(TEST_WEBHOOK_SECRET);
  if (!secrets.ok) throw new Error("secret");
  const redis = await connect(redisUrl);
  /** Drives `n` fresh instances to the end; counts only the workers' traffic (instances are written first). */
  const drive = async (n: number, watch: boolean) => {
    const k = testKeys();
    for (let i = 0; i < n; i++) {
      await createInstance(redis, k, { accountId: `st${i}`, instanceId: `fi_st${i}`, flow });
    }
    const before = await counters([port]);
    const mon = watch ? monitor(port) : undefined;
    const t0 = performance.now();
    const workers = await startWorkers({
      redisTarget: { urls: [redisUrl], cluster: false },
      keys: k,
      queuePrefix: `{${k.prefix}q}`,
      queueName: `bench-steps-${Date.now()}`,
      rules,
      clock: systemClock,
      logger: silentLogger,
      telemetry: noTelemetry,
      outbound: { secrets: secrets.value, allowedHosts: ["127.0.0.1"], subscribers: [] },
      durationScale: 0.001,
      concurrency: 16,
    });
    try {
      for (let i = 0; i < n; i++) workers.wake(`st${i}`);
      await until(
        async () => {
          for (let i = n - 1; i >= 0; i -= 7) {
            const s = await loadInstance({ redis, keys: k }, `st${i}`, `fi_st${i}`);
            if (s?.status !== "completed") return undefined;
          }
          return true;
        },
        60_000,
        "bench instances to complete",
      );
      const seconds = (performance.now() - t0) / 1000;
      const counts = await mon?.stop();
      const after = await counters([port]);
      return { seconds, counts, before, after, steps: n * flow.steps.length };
    } finally {
      await workers.close();
    }
  };
  try {
    const plain = await drive(600, false);
    const watched = await drive(100, true);
    return {
      stepsPerSecond: round(plain.steps / plain.seconds, 0),
      stepCommands: round((plain.after.commands - plain.before.commands) / plain.steps),
      stepRedisCpuUs: round((plain.after.usec - plain.before.usec) / plain.steps, 1),
      stepClientCommands: round((watched.counts?.clientCommands ?? 0) / watched.steps),
      stepBytesIn: Math.round((plain.after.inBytes - plain.before.inBytes) / plain.steps),
      stepBytesOut: Math.round((plain.after.outBytes - plain.before.outBytes) / plain.steps),
      stepMemoryBytes: Math.round((plain.after.memory - plain.before.memory) / plain.steps),
    };
  } finally {
    redis.disconnect();
    await receiver.close();
  }
}

/** One autocannon run of first-time routes against each target in parallel; sums req/s. */
async function routeLoad(targets: readonly string[], connections: number, duration: number) {
  const run = `${Date.now().toString(36)}`;
  const results = await Promise.all(
    targets.map((url, t) => {
      let i = 0;
      return autocannon({
        url,
        connections: Math.max(1, Math.floor(connections / targets.length)),
        duration,
        requests: [
          {
            method: "POST",
            path: "/v1/route",
            headers: { authorization: `Bearer ${TEST_TOKENS.api}`, "content-type": "application/json" },
            setupRequest: (req: Record<string, unknown>) => ({
              ...req,
              body: routeBody(`ac-${run}-${t}-${i++}`),
            }),
          },
        ],
      });
    }),
  );
  return {
    rps: results.reduce((s, r) => s + r.requests.average, 0),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    requests: results.reduce((s, r) => s + r.requests.total, 0),
    failures: results.reduce((s, r) => s + r.errors + r.non2xx + r.timeouts, 0),
  };
}

/** Every scale-out figure; `duration` is seconds per throughput run (env BENCH_DURATION). */
export async function benchCluster(): Promise<Record<string, number>> {
  const duration = Number(process.env.BENCH_CLUSTER_DURATION ?? 8);
  const out: Record<string, number> = {};

  const single = await startRedis();
  try {
    const api = await startNodeProcess("api", { REDIS_URL: single.url, REDIS_KEY_PREFIX: "bc:" });
    try {
      Object.assign(out, await routeCost(single.port, api));
    } finally {
      await api.kill("SIGTERM");
    }
    Object.assign(out, await stepCost(single.url, single.port));
  } finally {
    await single.destroy();
  }

  const cluster = await startCluster({ masters: 3 });
  const apis: NodeProcess[] = [];
  try {
    const env = { REDIS_URL: cluster.url, REDIS_KEY_PREFIX: "bc:" };
    apis.push(await startNodeProcess("api", env));
    await routeLoad([apis[0]!.url], 16, 1); // warm-up
    const masters = await cluster.masters();
    const c0 = await counters(masters);
    const one = await routeLoad([apis[0]!.url], 16, duration);
    const c1 = await counters(masters);
    apis.push(await startNodeProcess("api", env));
    await routeLoad([apis[1]!.url], 16, 1); // warm-up
    const two = await routeLoad(
      apis.map((a) => a.url),
      16,
      duration,
    );
    out.cluster1ApiRps = round(one.rps, 0);
    out.cluster1ApiP99Ms = one.p99;
    out.cluster2ApiRps = round(two.rps, 0);
    out.cluster2ApiP99Ms = two.p99;
    out.clusterScaling = round(two.rps / one.rps);
    out.clusterFailures = one.failures + two.failures;
    out.clusterCommandsPerRoute = round((c1.commands - c0.commands) / one.requests);
    out.clusterRedisCpuUsPerRoute = round((c1.usec - c0.usec) / one.requests, 1);
  } finally {
    await Promise.all(apis.map((a) => a.kill("SIGTERM")));
    await cluster.destroy();
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const figures = await benchCluster();
  console.log(JSON.stringify(figures, null, 2));
  process.exit(0);
}
