/** A worker process for the crash test: started with tsx, SIGKILLed mid-action by the test. */
import { keys } from "../../src/adapters/redis/keys.js";
import { noTelemetry, silentLogger, systemClock } from "../../src/core/ports.js";
import { parseWebhookSecrets } from "../../src/core/signing/standard-webhooks.js";
import { startWorkers } from "../../src/worker/index.js";
import { memoryRules } from "./flow-support.js";

const env = (n: string) => {
  const v = process.env[n];
  if (!v) throw new Error(`${n} is required`);
  return v;
};
const secrets = parseWebhookSecrets(env("CRASH_SECRET"));
if (!secrets.ok) throw new Error("bad secret");
const k = keys(env("CRASH_KEY_PREFIX"));
await startWorkers({
  redisTarget: { urls: [env("CRASH_REDIS_URL")], cluster: false },
  keys: k,
  queuePrefix: `{${k.prefix}q}`,
  queueName: env("CRASH_QUEUE"),
  rules: await memoryRules(),
  clock: systemClock,
  logger: silentLogger,
  telemetry: noTelemetry,
  outbound: { secrets: secrets.value, allowedHosts: ["127.0.0.1"], subscribers: [env("CRASH_RECEIVER")] },
  stalledIntervalMs: 300,
  lockDurationMs: 600,
  backoffMs: 20,
  sweepIntervalMs: 200,
});
process.stdout.write("ready\n");
