import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { fastTrackAnswers } from "../fixtures/answers.js";
import { buildTestApp, type TestApp } from "../support/app.js";

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ redisUrl: inject("redisUrl") });
});
afterAll(async () => {
  await t.close();
});

describe("GET /v1/admin/analytics/instances", () => {
  it("counts the active instances per flow, version and current step", async () => {
    for (const accountId of ["inst-a", "inst-b", "inst-c"]) {
      const res = await t.app.request("/v1/route", {
        method: "POST",
        headers: { authorization: `Bearer ${t.tokens.api}`, "content-type": "application/json" },
        body: JSON.stringify({ accountId, survey: { answers: fastTrackAnswers } }),
      });
      expect(res.status).toBe(200);
    }
    const res = await t.app.request("/v1/admin/analytics/instances", {
      headers: { authorization: `Bearer ${t.tokens.admin}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      buckets: { flow: string; version: number; step: string | null; status: string; count: number }[];
      truncated: boolean;
    };
    expect(body.truncated).toBe(false);
    const bucket = body.buckets.find((b) => b.flow === "fast-track" && b.step === "welcome-email");
    expect(bucket).toMatchObject({ status: "active", count: 3 });
    const api = await t.app.request("/v1/admin/analytics/instances", {
      headers: { authorization: `Bearer ${t.tokens.api}` },
    });
    expect(api.status).toBe(403);
  });
});
