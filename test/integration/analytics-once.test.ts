import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { fastTrackAnswers } from "../fixtures/answers.js";
import { buildTestApp, type TestApp } from "../support/app.js";
import { sleep, until } from "./flow-support.js";

// `npm start` (API and worker in one process): a route's intent is handed to the process's own
// relay; it must not also be relayed from the ready list, which appended its analytics twice.
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ redisUrl: inject("redisUrl"), role: "all", worker: { durationScale: 1e-6 } });
});
afterAll(async () => {
  await t?.close();
});

describe("analytics of routes in the all-in-one process", () => {
  it("records each first decision exactly once", async () => {
    const run = Math.random().toString(36).slice(2, 8);
    const accounts = Array.from({ length: 30 }, (_, i) => `once-${run}-${i}`);
    await Promise.all(
      accounts.map(async (accountId) => {
        const res = await t.app.request("/v1/route", {
          method: "POST",
          headers: { authorization: `Bearer ${t.tokens.api}`, "content-type": "application/json" },
          body: JSON.stringify({ accountId, survey: { answers: fastTrackAnswers } }),
        });
        expect(res.status).toBe(200);
      }),
    );
    const decisions = async () =>
      (await t.services.redis.xrange(t.services.keys.global.analytics, "-", "+")).filter(
        ([, f]) => f[1] === "decision" && f.some((v) => v.startsWith(`once-${run}-`)),
      ).length;
    await until(async () => ((await decisions()) >= accounts.length ? true : undefined));
    await sleep(500); // a second relay of the same intents would land by now
    expect(await decisions()).toBe(accounts.length);
  });
});
