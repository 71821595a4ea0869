import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RunningWorkers } from "../../src/worker/index.js";
import { bankHandover, fastTrackAnswers } from "../fixtures/answers.js";
import { buildTestApp, postSignedHandover, type TestApp } from "../support/app.js";
import { startAppWorkers, until } from "./flow-support.js";

/**
 * A burst of handovers for one account re-decides it once or twice, not once per handover: each
 * re-decision walks every instance of the account, and a busy account's backlog of them held up
 * every other account's re-decision past the contract's 5 s. The API runs alone first, so the
 * whole burst is committed before a worker relays any of it.
 */
let t: TestApp;
let workers: RunningWorkers | undefined;
let queue: Queue;
beforeAll(async () => {
  t = await buildTestApp({ redisUrl: inject("redisUrl"), role: "api" });
  queue = new Queue("flow", {
    connection: t.services.redis as never,
    prefix: `{${t.services.keys.prefix.slice(0, -1)}q}`,
  });
});
afterAll(async () => {
  await workers?.close();
  await queue.close();
  await t.close();
});

describe("a burst of handovers for one account", () => {
  it("re-decides the account at most twice, on the latest handover", async () => {
    const accountId = `burst-${Math.random().toString(36).slice(2, 10)}`;
    const users = ["u1", "u2", "u3"];
    for (const userId of users) {
      const res = await t.app.request("/v1/route", {
        method: "POST",
        headers: { authorization: `Bearer ${t.tokens.api}`, "content-type": "application/json" },
        body: JSON.stringify({ accountId, userId, survey: { answers: fastTrackAnswers } }),
      });
      expect((await res.json()).flow.id).toBe("fast-track");
    }
    for (let i = 0; i < 15; i++)
      expect((await postSignedHandover(t.app, bankHandover(accountId))).status).toBe(202);

    workers = await startAppWorkers(t, inject("redisUrl"));
    const view = async () =>
      (
        await t.app.request(`/v1/accounts/${accountId}`, {
          headers: { authorization: `Bearer ${t.tokens.api}` },
        })
      ).json();
    const moved = await until(async () => {
      const v = await view();
      return v.instances.every((i: { flow: { id: string } }) => i.flow.id !== "fast-track") ? v : undefined;
    });
    expect(moved.instances).toHaveLength(users.length);
    const runs = async () =>
      (await queue.getJobs(["completed", "active", "waiting", "delayed", "failed"], 0, -1)).filter(
        (j) => j?.name === "account.redecide" && j.data.accountId === accountId,
      );
    await until(async () => ((await queue.getActiveCount()) === 0 ? true : undefined));
    const all = await runs();
    expect(all.length).toBeGreaterThanOrEqual(1);
    expect(all.length).toBeLessThanOrEqual(2);
  });
});
