import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { redecideAccount } from "../../src/adapters/redis/route-store.js";
import type { RunningWorkers } from "../../src/worker/index.js";
import { bankHandover, fastTrackAnswers } from "../fixtures/answers.js";
import { buildTestApp, postSignedHandover, type TestApp } from "../support/app.js";
import { startAppWorkers, until } from "./flow-support.js";

/**
 * A re-decision that keeps the flow (changed answers, or a late handover, that pick the same
 * flow again) must leave the current step running: its queued job and timers still apply.
 * The API runs alone first, so the step's job is still queued when the re-decision lands;
 * the worker starts afterwards. The handover's re-decision is the queued job's own call, made
 * here before the worker starts, so it lands before the step runs on every run (racing the
 * step's job in the worker, it sometimes came after the step and the test proved nothing).
 */
let t: TestApp;
let workers: RunningWorkers | undefined;
beforeAll(async () => {
  t = await buildTestApp({ redisUrl: inject("redisUrl"), role: "api" });
});
afterAll(async () => {
  await workers?.close();
  await t.close();
});

const uniq = (p: string) => `${p}-${Math.random().toString(36).slice(2, 10)}`;
const api = () => ({ authorization: `Bearer ${t.tokens.api}`, "content-type": "application/json" });
const route = async (accountId: string, answers: Record<string, unknown>) => {
  const res = await t.app.request("/v1/route", {
    method: "POST",
    headers: api(),
    body: JSON.stringify({ accountId, survey: { answers } }),
  });
  expect(res.status).toBe(200);
  return res.json();
};
const view = async (accountId: string) =>
  (await t.app.request(`/v1/accounts/${accountId}`, { headers: api() })).json();

/** A handover that keeps fast-track: a small software deal with a sponsor and a decision maker. */
const smallSoftwareDeal = (accountId: string) => {
  const h = bankHandover(accountId);
  return {
    ...h,
    account: { name: "Smallsoft", industry: "Software", region: "EMEA", employees: 40 },
    deal: { ...h.deal, amount: 20_000 },
  };
};

describe("a re-decision that keeps the flow", () => {
  it("leaves the current step's queued job valid: the step still runs and the flow moves on", async () => {
    const answered = uniq("same-answers");
    const first = await route(answered, fastTrackAnswers);
    expect(first).toMatchObject({ flow: { id: "fast-track" }, step: { id: "welcome-email" } });
    const again = await route(answered, { ...fastTrackAnswers, teamSize: fastTrackAnswers.teamSize + 1 });
    expect(again).toMatchObject({ instanceId: first.instanceId, reused: true, flow: { id: "fast-track" } });
    expect(again.decisionId).not.toBe(first.decisionId);
    expect(again).not.toHaveProperty("rerouted");

    const handedOver = uniq("same-handover");
    expect((await route(handedOver, fastTrackAnswers)).flow.id).toBe("fast-track");
    expect((await postSignedHandover(t.app, smallSoftwareDeal(handedOver))).status).toBe(202);
    expect(await redecideAccount(t.services, handedOver)).toBe(0);
    const redecided = await view(handedOver);
    expect(redecided.instances[0].currentStep.id).toBe("welcome-email");
    expect(redecided.instances[0].history.map((h: { type: string }) => h.type)).toContain("redecided");

    workers = await startAppWorkers(t, inject("redisUrl"));
    for (const accountId of [answered, handedOver]) {
      const moved = await until(async () => {
        const v = await view(accountId);
        const inst = v.instances[0];
        return inst?.currentStep?.id === "settle-in" ? v : undefined;
      }, 5_000);
      const inst = moved.instances[0];
      expect(inst.flow.id).toBe("fast-track");
      expect(inst.history.map((h: { type: string }) => h.type)).toEqual(
        expect.arrayContaining(["redecided", "action.succeeded", "step.completed"]),
      );
    }
  });
});
