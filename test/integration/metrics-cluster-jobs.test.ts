import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RunningWorkers } from "../../src/worker/index.js";
import { fastTrackAnswers } from "../fixtures/answers.js";
import { buildTestApp, type TestApp } from "../support/app.js";
import { startAppWorkers, until } from "./flow-support.js";

let t: TestApp;
let workers: RunningWorkers;
beforeAll(async () => {
  // An API process and, beside it, a worker process's workers: scaled out, the API runs no job.
  t = await buildTestApp({ redisUrl: inject("redisUrl"), role: "api" });
  workers = await startAppWorkers(t, inject("redisUrl"));
});
afterAll(async () => {
  await workers.close();
  await t.close();
});

const sample = (text: string, name: string, labels: string) =>
  Number(new RegExp(`^${name}\\{${labels}\\} (\\d+)$`, "m").exec(text)?.[1] ?? Number.NaN);

describe("job outcomes on an API process that runs no jobs", () => {
  it("shows every worker process's job outcomes in /metrics", async () => {
    const res = await t.app.request("/v1/route", {
      method: "POST",
      headers: { authorization: `Bearer ${t.tokens.api}`, "content-type": "application/json" },
      body: JSON.stringify({ accountId: "metrics-scaled", survey: { answers: fastTrackAnswers } }),
    });
    expect(res.status).toBe(200);
    const text = await until(
      async () => {
        const page = await (await t.app.request("/metrics")).text();
        return sample(page, "router_cluster_jobs_total", 'kind="step.enter",outcome="completed"') >= 1
          ? page
          : undefined;
      },
      8_000,
      "the worker's outcomes in the API's /metrics",
    );
    // The API process's own counter has nothing: the figure came from the shared tally.
    expect(sample(text, "router_jobs_total", 'kind="step.enter",outcome="completed"')).toBeNaN();
  });
});
