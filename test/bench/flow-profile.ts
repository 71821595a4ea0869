/**
 * Profiles the flow worker over the step-throughput run `benchFlow` measures, without the
 * seeding: `tsx test/bench/flow-profile.ts redis://127.0.0.1:<port> [out.cpuprofile]` (never the
 * shared 6379). Prints steps/s and Node CPU per step. BENCH_FLOW_STEPS (default 20,000) and
 * BENCH_FLOW_CONCURRENCY apply.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { generateWebhookSecret, parseWebhookSecrets } from "../../src/core/signing/standard-webhooks.js";
import { memoryRules, testKeys } from "../integration/flow-support.js";
import { STEADY_STATE_FLOW, stepThroughput } from "./flow.js";

const url = process.argv[2];
if (!url) throw new Error("usage: tsx test/bench/flow-profile.ts redis://127.0.0.1:<port> [out.cpuprofile]");
const out = process.argv[3];
const secrets = parseWebhookSecrets(generateWebhookSecret());
if (!secrets.ok) throw new Error("secret");
const flow = STEADY_STATE_FLOW;
const n = Number(process.env.BENCH_FLOW_STEPS ?? 20_000);
const session = new Session();
const profile = {
  async start() {
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.start");
  },
  async stop() {
    const { profile: taken } = await session.post("Profiler.stop");
    if (out) writeFileSync(out, JSON.stringify(taken));
  },
};
const r = await stepThroughput(
  url,
  testKeys(),
  await memoryRules([{ flow, version: 1 }]),
  secrets.value,
  flow,
  n,
  `p${Date.now()}-`,
  false,
  out ? profile : undefined,
);
console.log(JSON.stringify({ rate: Math.round(r.rate), nodeCpuMsPerStep: r.nodeCpuMs / n }));
process.exit(0);
