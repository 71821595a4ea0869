import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { removeAccountJobs } from "../../src/adapters/queue/erase.js";
import { createFlowQueue, jobOptions } from "../../src/adapters/queue/flow-queue.js";
import type { OutboxIntent } from "../../src/core/flow/instance.js";
import { parseWebhookSecrets, webhookHeaders } from "../../src/core/signing/standard-webhooks.js";
import { bankHandover, fastTrackAnswers } from "../fixtures/answers.js";
import { buildTestApp, postSignedHandover, TEST_WEBHOOK_SECRET, type TestApp } from "../support/app.js";
import { startRedis } from "../support/redis-server.js";
import { until } from "./flow-support.js";

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ redisUrl: inject("redisUrl"), role: "all", worker: { durationScale: 1e-6 } });
});
afterAll(async () => {
  await t.close();
});

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

async function scanAll(redis: TestApp["services"]["redis"], match: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", match, "COUNT", 1000);
    cursor = next;
    out.push(...found);
  } while (cursor !== "0");
  return out;
}
const allKeys = (match: string) => scanAll(t.services.redis, match);

describe("DELETE /v1/accounts/:accountId", () => {
  it("erases every key about the account and its decision index entries; a later route starts afresh", async () => {
    const accountId = `erase-${Math.random().toString(36).slice(2, 8)}@example.com`;
    const auth = { authorization: `Bearer ${t.tokens.api}`, "content-type": "application/json" };
    const body = JSON.stringify(bankHandover(accountId));
    const secret = parseWebhookSecrets(TEST_WEBHOOK_SECRET);
    if (!secret.ok) throw new Error("secret");
    const headers = await webhookHeaders({
      id: "msg_erase",
      timestamp: new Date(),
      body,
      secret: secret.value[0]!,
    });
    expect(
      (
        await t.app.request("/v1/handover", {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body,
        })
      ).status,
    ).toBe(202);
    const routed = await (
      await t.app.request("/v1/route", {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ accountId, userId: "u1", survey: { answers: fastTrackAnswers } }),
      })
    ).json();
    const event = await t.app.request(`/v1/accounts/${encodeURIComponent(accountId)}/events`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ type: "workspace.configured", eventId: "evt-1" }),
    });
    expect(event.status).toBe(202);
    const outcome = await t.app.request(`/v1/accounts/${encodeURIComponent(accountId)}/outcomes`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ type: "activated", outcomeId: "oc-1" }),
    });
    expect(outcome.status).toBe(202);
    expect((await allKeys(`*${accountId}*`)).length).toBeGreaterThan(3);
    // The relay appends the decision's analytics events; another account's stay after the erase.
    const other = `keep-${Math.random().toString(36).slice(2, 8)}`;
    await t.app.request("/v1/route", {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ accountId: other, survey: { answers: fastTrackAnswers } }),
    });
    const stream = t.services.keys.global.analytics;
    const eventsOf = async (id: string) =>
      (await t.services.redis.xrange(stream, "-", "+")).filter(([, f]) =>
        f.some((v, i) => i % 2 === 1 && f[i - 1] === "accountId" && v === id),
      );
    for (const id of [accountId, other])
      await until(async () => ((await eventsOf(id)).length > 0 ? true : undefined));

    const del = await t.app.request(`/v1/accounts/${encodeURIComponent(accountId)}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${t.tokens.admin}` },
    });
    expect(del.status).toBe(204);
    await new Promise((r) => setTimeout(r, 300)); // let any job that was mid-flight finish
    expect(await allKeys(`*${accountId}*`)).toEqual([]);
    const recent = await t.services.redis.zrange(t.services.keys.global.recentDecisions, "0", "-1");
    expect(recent).not.toContain(routed.decisionId);
    const due = await t.services.redis.zrange(t.services.keys.global.dueIndex, "0", "-1");
    expect(due.filter((m) => m.startsWith(`${accountId}|`))).toEqual([]);
    expect(await eventsOf(accountId)).toEqual([]);
    expect((await eventsOf(other)).length).toBeGreaterThan(0);
    const exported = await t.app.request("/v1/admin/analytics/export", {
      headers: { authorization: `Bearer ${t.tokens.admin}` },
    });
    expect(await exported.text()).not.toContain(accountId);
    const gone = await t.app.request(`/v1/accounts/${encodeURIComponent(accountId)}`, { headers: auth });
    expect(gone.status).toBe(404);
    const again = await t.app.request(`/v1/admin/decisions/${routed.decisionId}`, {
      headers: { authorization: `Bearer ${t.tokens.admin}` },
    });
    expect(again.status).toBe(404);

    const fresh = await (
      await t.app.request("/v1/route", {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ accountId, userId: "u1", survey: { answers: fastTrackAnswers } }),
      })
    ).json();
    expect(fresh.reused).toBe(false);
    expect(fresh.flow.id).toBe("fast-track");
    const redelivered = await t.app.request("/v1/handover", {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
    expect((await redelivered.json()).duplicate).toBe(false);
  });

  it("erases accounts named like the global key tags without touching rulesets, audit or analytics", async () => {
    const admin = { authorization: `Bearer ${t.tokens.admin}` };
    const api = { authorization: `Bearer ${t.tokens.api}`, "content-type": "application/json" };
    const versions = async () =>
      (await (await t.app.request("/v1/admin/rules/versions", { headers: admin })).json()).versions;
    const audit = async () =>
      (await (await t.app.request("/v1/admin/audit", { headers: admin })).json()).entries;
    const { redis, keys } = t.services;
    await t.app.request("/v1/route", {
      method: "POST",
      headers: api,
      body: JSON.stringify({ accountId: "keeps-its-analytics", survey: { answers: fastTrackAnswers } }),
    });
    await until(async () => ((await redis.xlen(keys.global.analytics)) > 0 ? true : undefined));
    const before = {
      versions: await versions(),
      audit: await audit(),
      stream: await redis.xlen(keys.global.analytics),
    };
    expect(before.versions.length).toBeGreaterThan(0);
    expect(before.audit.length).toBeGreaterThan(0);
    for (const accountId of ["or", "or:rules", "#or"]) {
      const routed = await t.app.request("/v1/route", {
        method: "POST",
        headers: api,
        body: JSON.stringify({ accountId, survey: { answers: fastTrackAnswers } }),
      });
      if (accountId === "#or") {
        expect(routed.status).toBe(422);
        continue;
      }
      expect(routed.status).toBe(200);
      const del = await t.app.request(`/v1/accounts/${encodeURIComponent(accountId)}`, {
        method: "DELETE",
        headers: admin,
      });
      expect(del.status).toBe(204);
    }
    expect(await versions()).toEqual(before.versions);
    expect((await audit()).length).toBeGreaterThanOrEqual(before.audit.length);
    expect((await t.app.request("/v1/admin/rules", { headers: admin })).status).toBe(200);
    expect(await redis.xlen(keys.global.analytics)).toBeGreaterThanOrEqual(before.stream);
  });

  it("starts a subject afresh whose instance an erase removed from under it (no 500 for good)", async () => {
    const accountId = `erase-race-${Math.random().toString(36).slice(2, 8)}`;
    const api = { authorization: `Bearer ${t.tokens.api}`, "content-type": "application/json" };
    const route = () =>
      t.app.request("/v1/route", {
        method: "POST",
        headers: api,
        body: JSON.stringify({ accountId, userId: "u1", survey: { answers: fastTrackAnswers } }),
      });
    const first = await (await route()).json();
    // What an erase racing a route can leave: the subject kept, its instance hash gone.
    await t.services.redis.del(t.services.keys.account.instance(accountId, first.instanceId));
    const again = await route();
    expect(again.status).toBe(200);
    const body = await again.json();
    expect(body.reused).toBe(false);
    expect(body.instanceId).not.toBe(first.instanceId);
    expect((await (await route()).json()).instanceId).toBe(body.instanceId);
  });

  it("leaves no hidden instance or stray key when routes, events, outcomes and handovers race it", async () => {
    // Its own Redis with a large keyspace, as in production, where an erase takes long enough
    // for writes to land while it runs (a SCAN-based erase left orphans here on every run).
    const own = await startRedis();
    const t = await buildTestApp({ redisUrl: own.url, role: "all", worker: { durationScale: 1e-6 } });
    cleanup.push(async () => {
      await t.close();
      await own.destroy();
    });
    const { redis, keys } = t.services;
    for (let b = 0; b < 150_000; b += 10_000) {
      const p = redis.pipeline();
      for (let i = b; i < b + 10_000; i++) p.set(`${keys.prefix}{filler-${i}}:meta`, "1");
      await p.exec();
    }
    const allKeys = (match: string) => scanAll(redis, match);
    const accountId = `erase-live-${Math.random().toString(36).slice(2, 8)}`;
    const api = { authorization: `Bearer ${t.tokens.api}`, "content-type": "application/json" };
    const path = `/v1/accounts/${accountId}`;
    let n = 0;
    let racing = true;
    const loop = (send: (i: number) => Response | Promise<Response>) =>
      (async () => {
        while (racing) {
          const res = await send(n++);
          expect([200, 202, 404]).toContain(res.status);
        }
      })();
    expect((await postSignedHandover(t.app, bankHandover(accountId))).status).toBe(202);
    const loops = [
      ...[0, 1, 2].map(() =>
        loop((i) =>
          t.app.request("/v1/route", {
            method: "POST",
            headers: api,
            body: JSON.stringify({ accountId, userId: `u${i % 6}`, survey: { answers: fastTrackAnswers } }),
          }),
        ),
      ),
      loop((i) =>
        t.app.request(`${path}/events`, {
          method: "POST",
          headers: api,
          body: JSON.stringify({ type: "workspace.configured", eventId: `e${i}` }),
        }),
      ),
      loop((i) =>
        t.app.request(`${path}/outcomes`, {
          method: "POST",
          headers: api,
          body: JSON.stringify({ type: "activated", outcomeId: `o${i}` }),
        }),
      ),
      loop(() => postSignedHandover(t.app, bankHandover(accountId))),
    ];
    const admin = { authorization: `Bearer ${t.tokens.admin}` };
    let erased = 0;
    for (let round = 0; round < 8; round++) {
      await new Promise((r) => setTimeout(r, 40));
      const del = await t.app.request(path, { method: "DELETE", headers: admin });
      expect([204, 404]).toContain(del.status);
      if (del.status === 204) erased++;
    }
    racing = false;
    await Promise.all(loops);
    expect(erased).toBeGreaterThan(4);
    await new Promise((r) => setTimeout(r, 300)); // jobs in flight end (as no-ops on erased instances)

    // What the race left is one consistent account: every instance is one a subject names, every
    // subject names an instance, every history belongs to an instance…
    const left = await allKeys(`*{${accountId}}*`);
    const named = [...new Set(Object.values(await redis.hgetall(keys.account.subjects(accountId))))];
    const instances = left.filter((key) => key.includes(":inst:")).sort();
    expect(instances).toEqual(named.map((id) => keys.account.instance(accountId, id)).sort());
    for (const key of left.filter((k) => k.includes(":hist:")))
      expect(named.map((id) => keys.account.history(accountId, id))).toContain(key);
    // …and one more erase finds every key the racing writes made.
    if (left.length > 0)
      expect((await t.app.request(path, { method: "DELETE", headers: admin })).status).toBe(204);
    expect(await allKeys(`*{${accountId}}*`)).toEqual([]);
  });

  it("removes the erased instances' jobs, not those of the account started afresh since", async () => {
    const queue = createFlowQueue({
      connection: t.services.redis,
      prefix: `{${t.services.keys.prefix}jobs}`,
      name: `erase-${Math.random().toString(36).slice(2, 8)}`,
    });
    try {
      const accountId = "afresh";
      const timer = (instanceId: string, runAt: number): OutboxIntent => ({
        id: `${instanceId}-wait-1-wait.elapsed`,
        kind: "step.timer",
        accountId,
        instanceId,
        stepId: "wait",
        rev: 1,
        timer: "wait.elapsed",
        runAt,
      });
      const redecide = (id: string): OutboxIntent => ({
        id,
        kind: "account.redecide",
        accountId,
        handoverId: "h",
        runAt: 0,
      });
      const add = (i: OutboxIntent) => queue.add(i.kind, i, jobOptions(i, Date.now()));
      const later = Date.now() + 3_600_000;
      await add(timer("fi_erased", later));
      await add(redecide("redecide-before"));
      await add({ ...timer("fi_other", later), accountId: "someone-else" });
      const at = Date.now();
      await new Promise((r) => setTimeout(r, 5));
      await add(timer("fi_afresh", later));
      const removed = await removeAccountJobs(queue, { accountId, instanceIds: new Set(["fi_erased"]), at });
      expect(removed).toBe(2);
      const left = (await queue.getJobs(["delayed", "wait"], 0, -1)).map((j) => j.id).sort();
      expect(left).toEqual(["fi_afresh-wait-1-wait.elapsed", "fi_other-wait-1-wait.elapsed"]);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it("answers 404 for an account it has never seen and 403 for the api token", async () => {
    const unknown = await t.app.request("/v1/accounts/never-seen", {
      method: "DELETE",
      headers: { authorization: `Bearer ${t.tokens.admin}` },
    });
    expect(unknown.status).toBe(404);
    const api = await t.app.request("/v1/accounts/never-seen", {
      method: "DELETE",
      headers: { authorization: `Bearer ${t.tokens.api}` },
    });
    expect(api.status).toBe(403);
  });
});
