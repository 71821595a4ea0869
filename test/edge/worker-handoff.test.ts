import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, FAST_TRACK_ANSWERS } from "./contract-cases.js";
import { ADMIN_TOKEN, OUTBOUND_SECRET, type Stack, sharedEnv, startStack } from "./stack.js";

let stack: Stack;
let worker: ChildProcess | undefined;
let workerOutput = "";

/** `npm run start:worker` against the stack's Redis, in its own process group. */
function startNodeWorker(redisUrl: string): ChildProcess {
  const child = spawn(
    process.execPath,
    [resolve("node_modules/tsx/dist/cli.mjs"), "src/node.ts", "--role=worker"],
    {
      env: {
        ...process.env,
        ...sharedEnv(redisUrl),
        NODE_ENV: "production",
        ROUTER_ADMIN_TOKEN: ADMIN_TOKEN,
        OUTBOUND_WEBHOOK_SECRET: OUTBOUND_SECRET,
        LOG_LEVEL: "info",
      },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stdout?.on("data", (d: Buffer) => {
    workerOutput += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    workerOutput += d.toString();
  });
  return child;
}

beforeAll(async () => {
  stack = await startStack();
  worker = startNodeWorker(stack.redis.url);
});

afterAll(async () => {
  const w = worker;
  if (w?.pid && w.exitCode === null) {
    const exited = new Promise((done) => w.once("exit", done));
    process.kill(-w.pid, "SIGTERM");
    await exited;
  }
  await stack?.stop();
});

describe("a flow started on the edge", () => {
  it("moves on when the Node worker runs the step the edge queued", async () => {
    const accountId = `handoff-${Date.now().toString(36)}`;
    const routed = await call(stack.entries.edge, "POST", "/v1/route", {
      body: { accountId, userId: "u_1", survey: { answers: FAST_TRACK_ANSWERS } },
    });
    expect(routed.status).toBe(200);
    const { instanceId, step } = routed.body as { instanceId: string; step: { id: string } };
    expect(step.id).toBe("welcome-email");

    const historyKey = stack.keys.account.history(accountId, instanceId);
    const entered = async () =>
      (await stack.client.lrange(historyKey, 0, -1))
        .map((line) => JSON.parse(line) as { type: string; stepId?: string })
        .filter((h) => h.type === "step.entered")
        .map((h) => h.stepId);
    await expect
      .poll(entered, { timeout: 30_000, interval: 250 })
      .toEqual(expect.arrayContaining(["welcome-email", "settle-in"]));
    expect(workerOutput).not.toMatch(/start-up error|configuration error/);
  });
});
