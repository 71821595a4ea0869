import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RunningWorkers } from "../../src/worker/index.js";
import { fastTrackAnswers } from "../fixtures/answers.js";
import { buildTestApp, type TestApp } from "../support/app.js";
import { startAppWorkers, until } from "./flow-support.js";

let t: TestApp;
let queue: Queue;
beforeAll(async () => {
  t = await buildTestApp({ redisUrl: inject("redisUrl"), role: "all" });
  queue = new Queue("flow", {
    connection: t.services.redis as never,
    prefix: `{${t.services.keys.prefix.slice(0, -1)}q}`,
  });
});
afterAll(async () => {
  await queue.close();
  await t.close();
});

const route = async (accountId: string, answers: Record<string, unknown>) => {
  const res = await t.app.request("/v1/route", {
    method: "POST",
    headers: { authorization: `Bearer ${t.tokens.api}`, "content-type": "application/json" },
    body: JSON.stringify({ accountId, survey: { answers } }),
  });
  expect(res.status).toBe(200);
  return res.json();
};

/** Delayed jobs of one instance's step (its timers). */
const timersOf = async (instanceId: string, stepId: string) =>
  (await queue.getDelayed(0, 10_000)).filter((j) => j.id?.startsWith(`${instanceId}-${stepId}-`));

describe("a switch to another flow", () => {
  it("cancels the old flow's pending jobs: the old step's timer leaves the queue", async () => {
    const accountId = `switch-${Math.random().toString(36).slice(2, 10)}`;
    const first = await route(accountId, fastTrackAnswers);
    expect(first.flow.id).toBe("fast-track");
    // The welcome action runs, then settle-in (PT1H) waits on its timer job.
    await until(async () =>
      (await timersOf(first.instanceId, "settle-in")).length === 1 ? true : undefined,
    );

    const switched = await route(accountId, { ...fastTrackAnswers, teamSize: 500 });
    expect(switched).toMatchObject({ instanceId: first.instanceId, rerouted: { from: "fast-track" } });
    await until(async () =>
      (await timersOf(first.instanceId, "settle-in")).length === 0 ? true : undefined,
    );
    const view = await (
      await t.app.request(`/v1/accounts/${accountId}`, {
        headers: { authorization: `Bearer ${t.tokens.api}` },
      })
    ).json();
    expect(view.instances[0].flow.id).toBe(switched.flow.id);
  });
});

describe("a switch committed before the old flow's first job was queued", () => {
  let api: TestApp;
  let workers: RunningWorkers | undefined;
  beforeAll(async () => {
    api = await buildTestApp({ redisUrl: inject("redisUrl"), role: "api" });
  });
  afterAll(async () => {
    await workers?.close();
    await api.close();
  });

  it("never queues that job: it rides in the same relay batch as the switch that cancels it", async () => {
    const accountId = `switch-early-${Math.random().toString(36).slice(2, 10)}`;
    const ask = async (answers: Record<string, unknown>) =>
      (
        await api.app.request("/v1/route", {
          method: "POST",
          headers: { authorization: `Bearer ${api.tokens.api}`, "content-type": "application/json" },
          body: JSON.stringify({ accountId, survey: { answers } }),
        })
      ).json();
    const first = await ask(fastTrackAnswers);
    expect(first.step.id).toBe("welcome-email");
    const switched = await ask({ ...fastTrackAnswers, teamSize: 500 });
    expect(switched.rerouted).toMatchObject({ from: "fast-track" });
    workers = await startAppWorkers(api, inject("redisUrl"));
    const outbound = new Queue("flow-outbound", {
      connection: api.services.redis as never,
      prefix: `{${api.services.keys.prefix.slice(0, -1)}q}`,
    });
    try {
      const view = async () =>
        (
          await api.app.request(`/v1/accounts/${accountId}`, {
            headers: { authorization: `Bearer ${api.tokens.api}` },
          })
        ).json();
      // The new flow's first step runs…
      await until(async () => {
        const v = await view();
        return v.instances[0].currentStep?.id !== switched.step.id ? true : undefined;
      });
      // …and the old flow's welcome-email job was never queued (not even as a stale no-op).
      expect(await outbound.getJob(`${first.instanceId}-welcome-email-1`)).toBeUndefined();
    } finally {
      await outbound.close();
    }
  });
});
