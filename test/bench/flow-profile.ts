/**
 * Profiles the flow worker alone over a seeded step-throughput run (what `benchFlow` measures,
 * without the seeding): `tsx test/bench/flow-profile.ts redis://127.0.0.1:<port> [out.cpuprofile]`
 * (never the shared 6379). Prints steps/s and Node CPU per step.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { createFlowQueue } from "../../src/adapters/queue/flow-queue.js";
import { noTelemetry, silentLogger, systemClock } from "../../src/core/ports.js";
import type { FlowDefinition } from "../../src/core/ruleset/schemas.js";
import { generateWebhookSecret, parseWebhookSecrets } from "../../src/core/signing/standard-webhooks.js";
import { startWorkers } from "../../src/worker/index.js";
import { connect, memoryRules, testKeys, until } from "../integration/flow-support.js";
import { seedInstances } from "./flow.js";

const url = process.argv[2];
if (!url) throw new Error("usage: tsx test/bench/flow-profile.ts redis://127.0.0.1:<port> [out.cpuprofile]");
const out = process.argv[3];
const secrets = parseWebhookSecrets(generateWebhookSecret());
if (!secrets.ok) throw new Error("secret");
const flow: FlowDefinition = {
  id: "bench-tp",
  name: "bench",
  reroute: "never",
  steps: [
    { id: "pause", type: "wait", title: "Pause", duration: "P7D" },
    { id: "end", type: "end", title: "End" },
  ],
};
const rules = await memoryRules([{ flow, version: 1 }]);
const n = Number(process.env.BENCH_FLOW_STEPS ?? 20_000);
const k = testKeys();
const redis = await connect(url);
const prefix = `{${k.prefix}q}`;
const name = `profile-${Date.now()}`;
const queue = createFlowQueue({ connection: redis, prefix, name });
await seedInstances(redis, k, queue, flow, n, `p${Date.now()}-`);
const session = new Session();
if (out) {
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
}
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const workers = await startWorkers({
  redisTarget: { urls: [url], cluster: false },
  keys: k,
  queuePrefix: prefix,
  queueName: name,
  rules,
  clock: systemClock,
  logger: silentLogger,
  telemetry: noTelemetry,
  outbound: { secrets: secrets.value, allowedHosts: ["127.0.0.1"], subscribers: [] },
  concurrency: Number(process.env.C ?? 16),
});
await until(async () => ((await queue.getCompletedCount()) >= n ? true : undefined), 120_000, "run");
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
if (out) {
  const { profile } = await session.post("Profiler.stop");
  writeFileSync(out, JSON.stringify(profile));
}
console.log(
  JSON.stringify({ rate: Math.round(n / seconds), nodeCpuMsPerStep: (cpu.user + cpu.system) / 1000 / n }),
);
await workers.close();
await queue.obliterate({ force: true });
process.exit(0);
