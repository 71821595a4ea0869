import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis, createRedis, type RedisClient } from "../../src/adapters/redis/connect.js";
import { loadInstance, readHistory } from "../../src/adapters/redis/flow-store.js";
import { keys as makeKeys } from "../../src/adapters/redis/keys.js";
import { fastTrackAnswers } from "../fixtures/answers.js";
import { startReceiver } from "../integration/flow-support.js";
import { TEST_TOKENS } from "../support/app.js";
import { type NodeProcess, startNodeProcess } from "../support/processes.js";
import { startRedis, type TestRedis } from "../support/redis-server.js";
import { shortRulesDir } from "./flow-rules.js";
import { sleep, startLoad, tally } from "./load.js";

/**
 * Fault 5 (scale): 2 API + 2 worker processes on one Redis route many accounts and drive each
 * through the short flow (call → 1 s wait → call → event "go" → end) concurrently; the final
 * state must equal the model. 10,000 accounts (50,000 steps) take about 70 s on this 2-core
 * machine; FAULT_SCALE_ACCOUNTS overrides.
 */

const ACCOUNTS = Number(process.env.FAULT_SCALE_ACCOUNTS ?? 10_000);
const STEPS = ["call-a", "pause", "call-b", "await-go", "done"];
const keys = makeKeys();
let server: TestRedis;
let redis: RedisClient;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let rules: ReturnType<typeof shortRulesDir>;
const procs: NodeProcess[] = [];

beforeAll(async () => {
  server = await startRedis();
  receiver = await startReceiver(() => 200);
  rules = shortRulesDir(receiver.url, true);
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

/**
 * Maps with at most `limit` calls in flight, as a real client pool would: 10,000 fetches at once
 * opened thousands of sockets, overflowing the API's listen backlog (resets) on a busy machine.
 */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  f: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

/** Polls until `done(i)` holds for every index, checking the open ones in batches. */
async function allOf(count: number, ms: number, done: (i: number) => Promise<boolean>): Promise<number[]> {
  let open = Array.from({ length: count }, (_, i) => i);
  const deadline = Date.now() + ms;
  while (open.length > 0 && Date.now() < deadline) {
    const next: number[] = [];
    for (let b = 0; b < open.length; b += 200) {
      const batch = open.slice(b, b + 200);
      const ok = await Promise.all(batch.map(done));
      batch.forEach((i, j) => {
        if (!ok[j]) next.push(i);
      });
    }
    open = next;
    if (open.length > 0) await sleep(500);
  }
  return open;
}

describe(`${ACCOUNTS} accounts through 2 API and 2 worker processes`, () => {
  it("ends with every instance completed once, every step once and the counts of the model", async () => {
    const env = { REDIS_URL: server.url, RULES_DIR: rules.dir, OUTBOUND_ALLOWED_HOSTS: "127.0.0.1" };
    procs.push(
      ...(await Promise.all([
        startNodeProcess("api", env),
        startNodeProcess("api", env),
        startNodeProcess("worker", env),
        startNodeProcess("worker", env),
      ])),
    );
    const apis = procs.filter((p) => p.role === "api").map((p) => p.url);
    const started = Date.now();

    // Route every account once (accounts acct-0 … acct-N-1), then a tenth of them again.
    let sent = 0;
    const total = ACCOUNTS;
    const load = startLoad({
      targets: () => (sent++ < total ? apis : []),
      tag: "acct",
      concurrency: 16,
      timeoutMs: 15_000,
    });
    while (load.outcomes.length < total && Date.now() - started < 120_000) await sleep(50);
    const outcomes = await load.stop();
    expect(tally(outcomes)).toEqual({ "200": total });
    const model = new Map(outcomes.map((o) => [o.accountId, o.instanceId ?? ""]));
    const again = Math.floor(ACCOUNTS / 10);
    const repeats = await mapLimit(
      Array.from({ length: again }, (_, i) => i),
      64,
      async (i) => {
        const res = await fetch(`${apis[i % 2]}/v1/route`, {
          method: "POST",
          headers: { authorization: `Bearer ${TEST_TOKENS.api}`, "content-type": "application/json" },
          body: JSON.stringify({
            accountId: `acct-${i}`,
            userId: "u",
            survey: { answers: fastTrackAnswers },
          }),
        });
        return (await res.json()) as { instanceId: string; reused: boolean };
      },
    );
    repeats.forEach((r, i) => {
      expect(r).toMatchObject({ instanceId: model.get(`acct-${i}`), reused: true });
    });
    const ids = Array.from({ length: ACCOUNTS }, (_, i) => `acct-${i}`);
    expect(ids).toHaveLength(ACCOUNTS);

    // Wait for every instance to reach the event step, then send the event through either API.
    const waiting = await allOf(ACCOUNTS, 120_000, async (i) => {
      const s = await loadInstance({ redis, keys }, ids[i]!, model.get(ids[i]!)!);
      return s?.stepId === "await-go";
    });
    expect(waiting, "instances that never reached the event step").toEqual([]);
    const events = await mapLimit(ids, 64, async (accountId, i) => {
      const res = await fetch(`${apis[i % 2]}/v1/accounts/${accountId}/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_TOKENS.api}`, "content-type": "application/json" },
        body: JSON.stringify({ type: "go", eventId: `go-${accountId}` }),
      });
      return res.status;
    });
    expect(events.filter((s) => s !== 202)).toEqual([]);
    const unfinished = await allOf(ACCOUNTS, 60_000, async (i) => {
      const s = await loadInstance({ redis, keys }, ids[i]!, model.get(ids[i]!)!);
      return s?.status === "completed";
    });
    expect(unfinished, "instances not completed").toEqual([]);
    const seconds = (Date.now() - started) / 1000;

    // The model: one instance per account, each step entered and completed once, in order.
    let badHistory = 0;
    for (const accountId of ids) {
      const subjects = await redis.hgetall(keys.account.subjects(accountId));
      expect(Object.values(subjects)).toEqual([model.get(accountId)]);
      const h = await readHistory({ redis, keys }, accountId, model.get(accountId)!);
      const entered = h.filter((e) => e.type === "step.entered").map((e) => e.stepId);
      const completed = h.filter((e) => e.type === "step.completed").map((e) => e.stepId);
      if (entered.join() !== STEPS.join() || completed.join() !== STEPS.slice(0, 4).join()) badHistory++;
    }
    expect(badHistory, "instances whose history is not the model's").toBe(0);
    const pairs = new Map<string, Set<string>>();
    for (const g of receiver.got) {
      const at = `${String(g.body.instanceId)}/${String(g.body.stepId)}`;
      const set = pairs.get(at) ?? new Set<string>();
      set.add(String(g.headers["idempotency-key"]));
      pairs.set(at, set);
    }
    expect(pairs.size).toBe(ACCOUNTS * 2);
    expect([...pairs.values()].filter((s) => s.size !== 1)).toEqual([]);
    console.info(
      `scale: ${ACCOUNTS} accounts, ${ACCOUNTS * STEPS.length} steps, ${receiver.got.length} webhook deliveries in ${seconds.toFixed(1)} s`,
    );
  }, 240_000);
});
