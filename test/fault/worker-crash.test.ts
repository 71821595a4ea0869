import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis, createRedis, type RedisClient } from "../../src/adapters/redis/connect.js";
import { loadInstance, readHistory } from "../../src/adapters/redis/flow-store.js";
import { keys as makeKeys } from "../../src/adapters/redis/keys.js";
import { startReceiver } from "../integration/flow-support.js";
import { type NodeProcess, startNodeProcess } from "../support/processes.js";
import { startRedis, type TestRedis } from "../support/redis-server.js";
import { shortRulesDir } from "./flow-rules.js";
import { sleep, startLoad, tally } from "./load.js";

/** Fault 2: SIGKILL a worker while it is in the middle of action steps; nothing is lost or doubled. */

const ACCOUNTS = 120;
const keys = makeKeys();
let server: TestRedis;
let redis: RedisClient;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let rules: ReturnType<typeof shortRulesDir>;
const procs: NodeProcess[] = [];

beforeAll(async () => {
  server = await startRedis();
  // Slow answers keep many action calls in flight, so the kill lands mid-step.
  receiver = await startReceiver(async () => {
    await sleep(150);
    return 200;
  });
  rules = shortRulesDir(receiver.url, false);
  redis = createRedis({ urls: [server.url], cluster: false }, "api");
  await connectRedis(redis);
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  redis?.disconnect();
  await receiver?.close();
  rules?.remove();
  await server?.destroy();
});

describe("a worker killed mid-step under load", () => {
  it("completes every step of every instance exactly once", async () => {
    const env = { REDIS_URL: server.url, RULES_DIR: rules.dir, OUTBOUND_ALLOWED_HOSTS: "127.0.0.1" };
    const api = await startNodeProcess("api", env);
    procs.push(api);
    const [victim, survivor] = await Promise.all([
      startNodeProcess("worker", env),
      startNodeProcess("worker", env),
    ]);
    procs.push(victim, survivor);

    let routed = 0;
    const load = startLoad({
      targets: () => (routed++ < ACCOUNTS ? [api.url] : []),
      tag: "acct",
      concurrency: 8,
    });
    // Kill once plenty of first actions are in flight or done, but before everything ran.
    const deadline = Date.now() + 20_000;
    while (receiver.got.length < 30 && Date.now() < deadline) await sleep(20);
    const inFlightAtKill = receiver.got.length;
    await victim.kill("SIGKILL");
    while (load.outcomes.length < ACCOUNTS && Date.now() < deadline) await sleep(20);
    const outcomes = await load.stop();
    expect(tally(outcomes)).toEqual({ "200": ACCOUNTS });

    // The killed worker's jobs come back once their locks expire (BullMQ stall check).
    const routes = outcomes.map((o) => ({ accountId: o.accountId, instanceId: o.instanceId ?? "" }));
    const finish = Date.now() + 100_000;
    let open = routes;
    while (open.length > 0 && Date.now() < finish) {
      const states = await Promise.all(
        open.map((r) => loadInstance({ redis, keys }, r.accountId, r.instanceId)),
      );
      open = open.filter((_, i) => states[i]?.status !== "completed");
      if (open.length > 0) await sleep(500);
    }
    expect(open, "instances not completed").toEqual([]);

    // History: each step entered and completed exactly once.
    for (const r of routes) {
      const h = await readHistory({ redis, keys }, r.accountId, r.instanceId);
      const completed = h.filter((e) => e.type === "step.completed").map((e) => e.stepId);
      expect(completed, `history of ${r.accountId}`).toEqual(["call-a", "pause", "call-b"]);
    }
    // Webhooks: one idempotency key per (instance, action step); retries reuse it.
    const keysPer = new Map<string, Set<string>>();
    for (const g of receiver.got) {
      const at = `${String(g.body.instanceId)}/${String(g.body.stepId)}`;
      const set = keysPer.get(at) ?? new Set<string>();
      set.add(String(g.headers["idempotency-key"]));
      keysPer.set(at, set);
    }
    expect(keysPer.size).toBe(ACCOUNTS * 2);
    expect([...keysPer.values()].filter((s) => s.size !== 1)).toEqual([]);
    console.info(
      `worker crash: killed with ${inFlightAtKill} calls received; ${receiver.got.length} deliveries for ${keysPer.size} (instance, step) pairs`,
    );
  }, 180_000);
});
