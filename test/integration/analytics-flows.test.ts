import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { readCounters } from "../../src/adapters/analytics/reader.js";
import { appendAnalytics } from "../../src/adapters/analytics/recorder.js";
import { createLogger } from "../../src/adapters/logger.js";
import { createFlowQueue } from "../../src/adapters/queue/flow-queue.js";
import { type Relay, startRelay } from "../../src/adapters/queue/relay.js";
import { createRedis } from "../../src/adapters/redis/connect.js";
import { loadInstance, transitionInstance } from "../../src/adapters/redis/flow-store.js";
import type { AnalyticsEvent } from "../../src/core/analytics/event.js";
import { createApp } from "../../src/http/app.js";
import type { AppDeps } from "../../src/http/context.js";
import { sharedEndpoints, withOpenApi } from "../../src/http/endpoints.js";
import { analyticsEndpoints } from "../../src/http/routes/admin/analytics.js";
import type { RouterServices } from "../../src/http/services.js";
import { buildTestApp, type TestApp } from "../support/app.js";
import { DAY, HOUR, journeys, nearestRank, npsOf } from "../unit/analytics/synthetic.js";

let t: TestApp;
let nowMs = Date.now();
let services: RouterServices;
let app: ReturnType<typeof createApp<RouterServices>>;
let relay: Relay;
let closeQueue: () => Promise<void>;

beforeAll(async () => {
  t = await buildTestApp({ redisUrl: inject("redisUrl") });
  // The route's decision events travel in its outbox intent; a relay (no worker: this test drives
  // transitions itself) appends them to the analytics log.
  const target = { urls: [inject("redisUrl")], cluster: false };
  const queueConn = createRedis(target, "queue");
  const blocking = createRedis(target, "queue");
  const queue = createFlowQueue({
    connection: queueConn,
    prefix: `{${crypto.randomUUID().slice(0, 8)}}`,
    name: "flow",
  });
  relay = startRelay({
    redis: t.services.redis,
    blocking,
    queue,
    keys: t.services.keys,
    logger: createLogger("silent"),
    sweepIntervalMs: 100,
  });
  closeQueue = async () => {
    await relay.close();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    queueConn.disconnect();
  };
  const clock = { now: () => new Date(nowMs) };
  services = { ...t.services, clock };
  const deps: AppDeps<RouterServices> = {
    config: t.config,
    clock,
    logger: createLogger("silent"),
    services: { acquire: () => services },
    readiness: async () => ({ ready: true, checks: {} }),
  };
  app = createApp(deps, withOpenApi([...sharedEndpoints(deps), ...analyticsEndpoints], "test"));
});
afterAll(async () => {
  await closeQueue?.();
  await t?.close();
});

const admin = (path: string) => app.request(path, { headers: { authorization: `Bearer ${t.tokens.admin}` } });
const api = (path: string, body: unknown) =>
  app.request(path, {
    method: "POST",
    headers: { authorization: `Bearer ${t.tokens.api}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

async function exported(from: number, to: number): Promise<AnalyticsEvent[]> {
  const res = await admin(
    `/v1/admin/analytics/export?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`,
  );
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("application/x-ndjson");
  const text = await res.text();
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as AnalyticsEvent);
}

describe("flow analytics over 300 synthetic journeys", () => {
  const start = Date.now() - 30 * DAY;
  const { events, tally } = journeys({ count: 300, start, seed: 11, prefix: "syn" });
  const from = new Date(start).toISOString();
  const to = new Date(start + 40 * DAY).toISOString();

  beforeAll(async () => {
    for (let i = 0; i < events.length; i += 1000) await appendAnalytics(services, events.slice(i, i + 1000));
  });

  it("reports completion, time in step, drop-off, NPS and activation exactly as counted independently", async () => {
    const res = await admin(`/v1/admin/analytics/flows?from=${from}&to=${to}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { flows: Record<string, never>[] };
    const rows = body.flows as unknown as {
      flow: string;
      segment: string;
      started: number;
      completed: number;
      completionRate: number;
      activated: number;
      activationRate: number;
      nps: unknown;
      timeToComplete: { median: number; p90: number; samples: number };
      steps: {
        stepId: string;
        entered: number;
        completed: number;
        dropOff: number;
        timeInStep: { median: number; p90: number };
      }[];
    }[];
    expect(rows.length).toBe(tally.size);
    for (const row of rows) {
      const c = tally.get(`${row.flow}|${row.segment}`)!;
      expect([row.flow, row.segment, row.started, row.completed, row.activated]).toEqual([
        row.flow,
        row.segment,
        c.started,
        c.completed,
        c.activated,
      ]);
      expect(row.completionRate).toBeCloseTo(c.completed / c.started, 12);
      expect(row.activationRate).toBeCloseTo(c.activated / c.started, 12);
      expect(row.nps).toEqual(npsOf(c.npsScores));
      expect(row.timeToComplete).toEqual({
        median: nearestRank(c.toComplete, 50),
        p90: nearestRank(c.toComplete, 90),
        samples: c.toComplete.length,
      });
      for (const [stepId, s] of c.steps) {
        const step = row.steps.find((x) => x.stepId === stepId)!;
        expect([step.entered, step.completed, step.dropOff]).toEqual([
          s.entered,
          s.completed,
          s.entered - s.completed,
        ]);
        expect(step.timeInStep.median).toBe(nearestRank(s.durations, 50));
        expect(step.timeInStep.p90).toBe(nearestRank(s.durations, 90));
      }
    }
  });

  it("keeps daily counters that add up to the same counts", async () => {
    const counters = await readCounters(services, start, start + 40 * DAY);
    for (const [key, c] of tally) {
      const [flow, seg] = key.split("|");
      expect(counters[`started|flow=${flow}|seg=${seg}`]).toBe(c.started);
      expect(counters[`completed|flow=${flow}|seg=${seg}`] ?? 0).toBe(c.completed);
      expect(counters[`nps=promoter|flow=${flow}|seg=${seg}`] ?? 0).toBe(npsOf(c.npsScores).promoters);
    }
  });

  it("exports every raw event of the range as NDJSON", async () => {
    const out = await exported(start, start + 40 * DAY);
    const synthetic = out.filter((e) => e.accountId.startsWith("syn-"));
    expect(synthetic.length).toBe(events.length);
    expect(new Set(synthetic.map((e) => e.type))).toEqual(new Set(events.map((e) => e.type)));
    const narrow = await exported(start + 5 * DAY, start + 6 * DAY);
    const expected = events.filter((e) => {
      const at = Date.parse(e.at);
      return at >= start + 5 * DAY && at <= start + 6 * DAY;
    });
    expect(narrow.filter((e) => e.accountId.startsWith("syn-")).length).toBe(expected.length);
  });

  it("refuses an unreadable or reversed range with 422 and needs the admin token", async () => {
    expect((await admin("/v1/admin/analytics/flows?from=yesterday")).status).toBe(422);
    expect((await admin(`/v1/admin/analytics/flows?from=${to}&to=${from}`)).status).toBe(422);
    const res = await app.request("/v1/admin/analytics/flows", {
      headers: { authorization: `Bearer ${t.tokens.api}` },
    });
    expect(res.status).toBe(403);
  });
});

describe("analytics recorded by the route endpoint and the flow engine", () => {
  const answers = {
    teamSize: 10,
    priorExperience: "expert",
    goLiveTimeline: "within_2_weeks",
    supportStyle: "self_serve",
  };
  const accounts = Array.from({ length: 12 }, (_, i) => `wired-${i}`);
  const instances = new Map<string, string>();
  const deps = () => ({ ...services, durationScale: 1 });

  async function waitForEvents(pred: (e: AnalyticsEvent[]) => boolean) {
    await vi.waitFor(
      async () => {
        expect(pred(await exported(nowMs - DAY, nowMs + 10 * DAY))).toBe(true);
      },
      { timeout: 5_000, interval: 50 },
    );
  }

  it("records a decision and the first step's entry (with its stage) for each new instance", async () => {
    nowMs = Date.now();
    for (const accountId of accounts) {
      const res = await api("/v1/route", { accountId, survey: { answers } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { instanceId: string; flow: { id: string } };
      expect(body.flow.id).toBe("fast-track");
      instances.set(accountId, body.instanceId);
    }
    await waitForEvents((es) => es.filter((e) => e.accountId.startsWith("wired-")).length >= 24);
    const es = (await exported(nowMs - DAY, nowMs + DAY)).filter((e) => e.accountId === "wired-0");
    expect(es.map((e) => e.type)).toEqual(["decision", "step.entered"]);
    expect(es[0]).toMatchObject({
      flow: "fast-track",
      flowVersion: 1,
      segment: "unknown",
      instanceId: instances.get("wired-0"),
    });
    expect(es[1]).toMatchObject({ stepId: "welcome-email", stage: "onboarding" });
  });

  it("records engine transitions and lists exactly the instances past their due time as stuck", async () => {
    const t0 = nowMs;
    // 8 accounts finish the welcome email and start a 1-hour wait; 3 of those then move on to a 14-day wait.
    for (const accountId of accounts.slice(0, 8)) {
      const s = (await loadInstance(services, accountId, instances.get(accountId)!))!;
      const r = await transitionInstance(deps(), accountId, s.id, {
        kind: "action.succeeded",
        stepId: s.stepId!,
        rev: s.rev,
      });
      expect(r.ok).toBe(true);
    }
    nowMs = t0 + HOUR + 1;
    for (const accountId of accounts.slice(0, 3)) {
      const s = (await loadInstance(services, accountId, instances.get(accountId)!))!;
      expect(s.stepId).toBe("settle-in");
      const r = await transitionInstance(deps(), accountId, s.id, {
        kind: "timer",
        timer: "wait.elapsed",
        stepId: "settle-in",
        rev: s.rev,
      });
      expect(r.ok).toBe(true);
    }
    await waitForEvents(
      (es) => es.filter((e) => e.accountId.startsWith("wired-") && e.type === "step.completed").length === 11,
    );
    const res = await admin("/v1/admin/analytics/stuck");
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      stuck: { accountId: string; step: { id: string; stage: string | null }; overdueSeconds: number }[];
    };
    const expected = accounts.slice(3, 8).sort();
    expect(body.stuck.map((s) => s.accountId).sort()).toEqual(expected);
    for (const s of body.stuck) {
      expect(s.step).toEqual({ id: "settle-in", type: "wait", stage: "onboarding" });
      expect(s.overdueSeconds).toBe(0);
    }
    nowMs = t0;
    const early = (await (await admin("/v1/admin/analytics/stuck")).json()) as { stuck: unknown[] };
    expect(early.stuck).toEqual([]);
    nowMs = t0 + HOUR + 1;
    for (const limit of ["-5", "0", "1001", "ten"])
      expect((await admin(`/v1/admin/analytics/stuck?limit=${limit}`)).status, limit).toBe(422);
    expect((await admin("/v1/admin/analytics/stuck?limit=1")).status).toBe(200);
  });

  it("attributes an outcome to the subject's flow and counts it in the NPS", async () => {
    for (const [i, accountId] of accounts.slice(0, 4).entries()) {
      const res = await api(`/v1/accounts/${accountId}/outcomes`, {
        type: "nps",
        score: [10, 9, 3, 8][i],
        outcomeId: `nps-${accountId}`,
      });
      expect(res.status).toBe(202);
    }
    // the same outcomeId again is not counted twice
    await api("/v1/accounts/wired-0/outcomes", { type: "nps", score: 10, outcomeId: "nps-wired-0" });
    await waitForEvents(
      (es) => es.filter((e) => e.accountId.startsWith("wired-") && e.type === "outcome").length === 4,
    );
    const res = await admin(
      `/v1/admin/analytics/flows?from=${new Date(nowMs - DAY).toISOString()}&to=${new Date(nowMs + DAY).toISOString()}`,
    );
    const rows = (
      (await res.json()) as { flows: { flow: string; segment: string; started: number; nps: unknown }[] }
    ).flows;
    const row = rows.find((r) => r.flow === "fast-track" && r.segment === "unknown")!;
    expect(row.started).toBe(12);
    expect(row.nps).toEqual({ score: 25, promoters: 2, passives: 1, detractors: 1, responses: 4 });
    const raw = JSON.stringify(await exported(nowMs - DAY, nowMs + DAY));
    expect(raw).not.toMatch(/@/);
  });

  it("attributes an account-level outcome to the flow its users' instances all run", async () => {
    const accountId = "wired-users";
    for (const userId of ["u1", "u2"]) {
      const res = await api("/v1/route", { accountId, userId, survey: { answers } });
      expect(res.status).toBe(200);
    }
    const res = await api(`/v1/accounts/${accountId}/outcomes`, { type: "activated", outcomeId: "act-wu" });
    expect(res.status).toBe(202);
    await waitForEvents((es) => es.some((e) => e.accountId === accountId && e.type === "outcome"));
    const outcome = (await exported(nowMs - DAY, nowMs + DAY)).find(
      (e) => e.accountId === accountId && e.type === "outcome",
    );
    expect(outcome).toMatchObject({ flow: "fast-track", flowVersion: 1 });
  });
});
