import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis, createRedis, type RedisClient } from "../../src/adapters/redis/connect.js";
import { keys as makeKeys } from "../../src/adapters/redis/keys.js";
import { createNodeRulesRuntime } from "../../src/adapters/rules/runtime.js";
import { createRulesStore } from "../../src/adapters/rules/store.js";
import { readRulesDir } from "../../src/adapters/rules-dir.js";
import { parseWebhookSecrets, webhookHeaders } from "../../src/core/signing/standard-webhooks.js";
import { bankHandover, fastTrackAnswers } from "../fixtures/answers.js";
import { buildTestApp, RULES_DIR, TEST_WEBHOOK_SECRET, type TestApp } from "../support/app.js";
import { startCluster, type TestCluster } from "../support/redis-cluster.js";

/** The HTTP contract's key behaviours, repeated on a 3-master Redis Cluster (REDIS_URL = node list). */

let cluster: TestCluster;
let t: TestApp;
beforeAll(async () => {
  cluster = await startCluster({ masters: 3 });
  t = await buildTestApp({ redisUrl: cluster.url });
}, 60_000);
afterAll(async () => {
  await t?.close();
  await cluster?.destroy();
});

const uniq = (p: string) => `${p}-${Math.random().toString(36).slice(2, 10)}`;
const auth = (token: string) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });

function route(body: unknown) {
  return t.app.request("/v1/route", {
    method: "POST",
    headers: auth(t.tokens.api),
    body: JSON.stringify(body),
  });
}

async function handover(accountId: string, webhookId: string) {
  const body = JSON.stringify(bankHandover(accountId));
  const secrets = parseWebhookSecrets(TEST_WEBHOOK_SECRET);
  if (!secrets.ok) throw new Error("test secret");
  const headers = await webhookHeaders({
    id: webhookId,
    timestamp: Math.floor(Date.now() / 1000),
    body,
    secret: secrets.value[0]!,
  });
  return t.app.request("/v1/handover", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

/** Keys containing `{accountId}` on each master, by SCAN (what an auditor checking an erase would do). */
async function keysOnMasters(accountId: string): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  for (const port of await cluster.masters()) {
    const found: string[] = [];
    let cursor = "0";
    do {
      const reply = await cluster.cli(port, "SCAN", cursor, "MATCH", `*{${accountId}}*`, "COUNT", "1000");
      const [next, ...rest] = reply.trim().split("\n");
      cursor = next ?? "0";
      found.push(...rest.filter((k) => k.length > 0));
    } while (cursor !== "0");
    out.set(port, found);
  }
  return out;
}

describe("the HTTP contract on Redis Cluster", () => {
  it("uses a Cluster client when REDIS_URL lists several nodes", () => {
    expect(t.services.redis).toBeInstanceOf(Cluster);
  });

  it("returns the same instance when the same user routes twice", async () => {
    const accountId = uniq("stable");
    const a = await (await route({ accountId, userId: "u", survey: { answers: fastTrackAnswers } })).json();
    const b = await (await route({ accountId, userId: "u", survey: { answers: fastTrackAnswers } })).json();
    expect(a.reused).toBe(false);
    expect(b).toMatchObject({ instanceId: a.instanceId, reused: true, decisionId: a.decisionId });
  });

  it("creates exactly one instance for 50 concurrent first requests of one subject", async () => {
    const accountId = uniq("race");
    const answers = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const res = await route({ accountId, userId: "u", survey: { answers: fastTrackAnswers } });
        expect(res.status).toBe(200);
        return res.json() as Promise<{ instanceId: string; reused: boolean }>;
      }),
    );
    expect(new Set(answers.map((a) => a.instanceId)).size).toBe(1);
    expect(answers.filter((a) => !a.reused)).toHaveLength(1);
  });

  it("spreads accounts over every master while each account stays in one slot", async () => {
    const ids = Array.from({ length: 30 }, () => uniq("spread"));
    for (const accountId of ids) {
      expect((await route({ accountId, survey: { answers: fastTrackAnswers } })).status).toBe(200);
    }
    const holders = new Set<number>();
    for (const accountId of ids.slice(0, 12)) {
      const where = [...(await keysOnMasters(accountId))].filter(([, ks]) => ks.length > 0);
      expect(where).toHaveLength(1);
      holders.add(where[0]![0]);
    }
    expect(holders.size).toBeGreaterThanOrEqual(2);
  });

  it("dedupes a handover by webhook-id and shows it on the account", async () => {
    const accountId = uniq("ho");
    const first = await handover(accountId, "msg_cluster_1");
    expect(first.status).toBe(202);
    const a = await first.json();
    const again = await (await handover(accountId, "msg_cluster_1")).json();
    expect(again).toEqual({ handoverId: a.handoverId, accountId, duplicate: true });
    const routed = await route({ accountId, userId: "u", survey: { answers: fastTrackAnswers } });
    expect(routed.status).toBe(200);
    const view = await t.app.request(`/v1/accounts/${accountId}`, { headers: auth(t.tokens.api) });
    expect(view.status).toBe(200);
    const body = await view.json();
    expect(body.handover.account.industry).toBe("Banking");
    expect(body.instances).toHaveLength(1);
  });

  it("records an event once per eventId", async () => {
    const accountId = uniq("evt");
    await route({ accountId, userId: "u", survey: { answers: fastTrackAnswers } });
    const send = () =>
      t.app.request(`/v1/accounts/${accountId}/events`, {
        method: "POST",
        headers: auth(t.tokens.api),
        body: JSON.stringify({ type: "cluster.ping", eventId: "e-1" }),
      });
    const a = await send();
    expect(a.status).toBe(202);
    expect(await a.json()).toMatchObject({ duplicate: false });
    expect(await (await send()).json()).toMatchObject({ duplicate: true });
  });

  it("erases an account so that no master holds a key of it", async () => {
    const accountId = uniq("erase");
    await handover(accountId, uniq("msg"));
    await route({ accountId, userId: "u1", survey: { answers: fastTrackAnswers } });
    await route({ accountId, userId: "u2", survey: { answers: fastTrackAnswers } });
    const before = [...(await keysOnMasters(accountId)).values()].flat();
    expect(before.length).toBeGreaterThan(3);
    const del = await t.app.request(`/v1/accounts/${accountId}`, {
      method: "DELETE",
      headers: auth(t.tokens.admin),
    });
    expect(del.status).toBe(204);
    expect([...(await keysOnMasters(accountId)).values()].flat()).toEqual([]);
    const view = await t.app.request(`/v1/accounts/${accountId}`, { headers: auth(t.tokens.api) });
    expect(view.status).toBe(404);
  });
});

describe("rule reloads on Redis Cluster", () => {
  let clients: RedisClient[] = [];
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    clients = [];
  });

  it("reaches every process by pub/sub when a new version is published", async () => {
    const target = { urls: cluster.url.split(","), cluster: true };
    const keys = makeKeys(`${uniq("p")}:`);
    const client = (role: "api" | "subscriber") => {
      const c = createRedis(target, role);
      c.on("error", () => {});
      clients.push(c);
      return c;
    };
    const publisher = client("api");
    await connectRedis(publisher);
    // Polling effectively off: only the pub/sub message can bring the new version in time.
    const runtimes = await Promise.all(
      [0, 1, 2].map(async () => {
        const redis = client("api");
        await connectRedis(redis);
        const r = createNodeRulesRuntime({ redis, subscriber: client("subscriber"), keys, pollMs: 600_000 });
        await r.start();
        return r;
      }),
    );
    const doc = await readRulesDir(RULES_DIR);
    if (!doc.ok) throw new Error("rules dir");
    const store = createRulesStore(publisher, keys);
    const base = { files: doc.value.files, author: "test", source: "api" as const };
    const v1 = await store.publish({ ...base, message: "first", expected: 0 });
    if (!v1.ok) throw new Error(JSON.stringify(v1.error));
    for (const r of runtimes) await r.refresh();
    const settings = doc.value.files["settings.json"] as Record<string, unknown>;
    const files = { ...doc.value.files, "settings.json": { ...settings, defaultFlow: "fast-track" } };
    const v2 = await store.publish({ ...base, files, message: "second", expected: v1.value.version });
    if (!v2.ok) throw new Error(JSON.stringify(v2.error));
    const deadline = Date.now() + 3000;
    let seen: (number | undefined)[] = [];
    while (Date.now() < deadline) {
      seen = await Promise.all(runtimes.map(async (r) => (await r.active())?.version));
      if (seen.every((v) => v === v2.value.version)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(seen).toEqual([v2.value.version, v2.value.version, v2.value.version]);
    for (const r of runtimes) await r.close();
  });
});
