import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { appendAnalytics } from "../../src/adapters/analytics/recorder.js";
import { createLogger } from "../../src/adapters/logger.js";
import { createRedisRulesRuntime } from "../../src/adapters/rules/runtime.js";
import { createRulesStore } from "../../src/adapters/rules/store.js";
import type { AnalyticsEvent } from "../../src/core/analytics/event.js";
import { pickVariant } from "../../src/core/decision/experiment.js";
import { createApp } from "../../src/http/app.js";
import type { AppDeps } from "../../src/http/context.js";
import { sharedEndpoints, withOpenApi } from "../../src/http/endpoints.js";
import { analyticsEndpoints } from "../../src/http/routes/admin/analytics.js";
import type { RouterServices } from "../../src/http/services.js";
import { buildTestApp, type TestApp } from "../support/app.js";
import { DAY, rng } from "../unit/analytics/synthetic.js";

let t: TestApp;
let services: RouterServices;

function appOver(svc: () => RouterServices) {
  const deps: AppDeps<RouterServices> = {
    config: t.config,
    clock: svc().clock,
    logger: createLogger("silent"),
    services: { acquire: svc },
    readiness: async () => ({ ready: true, checks: {} }),
  };
  return createApp(deps, withOpenApi([...sharedEndpoints(deps), ...analyticsEndpoints], "test"));
}

beforeAll(async () => {
  t = await buildTestApp({ redisUrl: inject("redisUrl") });
  services = t.services;
});
afterAll(async () => t?.close());

const START = Date.now() - 10 * DAY;
const at = (i: number) => new Date(START + i * 1000).toISOString();

function cohort(segment: string, flow: string, rule: string, n: number, completed: number): AnalyticsEvent[] {
  const out: AnalyticsEvent[] = [];
  for (let i = 0; i < n; i++) {
    const base = {
      accountId: `${segment}-${flow}-${i}`,
      instanceId: `fi_${segment}${flow}${i}`,
      flow,
      flowVersion: 1,
      segment,
    };
    out.push({ ...base, type: "decision", rule, at: at(i) });
    if (i < completed) out.push({ ...base, type: "flow.completed", at: at(i + 100_000) });
  }
  return out;
}

describe("experiments", () => {
  it("assign subjects by weight, stably, and report a planted difference significant and a null one not", async () => {
    const variants = [
      { flow: "fast-track", weight: 70 },
      { flow: "guided-start", weight: 30 },
    ];
    const r = rng(5);
    const events: AnalyticsEvent[] = [];
    const counts = { "fast-track": 0, "guided-start": 0 };
    for (let i = 0; i < 10_000; i++) {
      const subject = `exp-acct-${i}`;
      const v = pickVariant("planted", subject, variants)!;
      expect(pickVariant("planted", subject, variants)).toBe(v);
      counts[v.flow as keyof typeof counts]++;
      const base = { accountId: subject, instanceId: `fi_exp${i}`, flow: v.flow, segment: "unknown" };
      events.push({ ...base, type: "decision", experiment: "planted", variant: v.flow, at: at(i) });
      // planted: guided-start completes 60%, fast-track 50%
      if (r() < (v.flow === "guided-start" ? 0.6 : 0.5))
        events.push({
          ...base,
          type: "flow.completed",
          experiment: "planted",
          variant: v.flow,
          at: at(i + 1),
        });
      // null: both variants complete 50% of the time
      const nb = { ...base, instanceId: `fi_null${i}`, experiment: "null-difference", variant: v.flow };
      events.push({ ...nb, type: "decision", at: at(i) });
      if (i % 2 === 0) events.push({ ...nb, type: "flow.completed", at: at(i + 1) });
    }
    expect(Math.abs(counts["fast-track"] / 10_000 - 0.7)).toBeLessThan(0.02);
    for (let i = 0; i < events.length; i += 2000) await appendAnalytics(services, events.slice(i, i + 2000));
    const app = appOver(() => services);
    const res = await app.request(`/v1/admin/analytics/experiments?from=${at(-1)}&to=${at(20_000)}`, {
      headers: { authorization: `Bearer ${t.tokens.admin}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      experiments: {
        experiment: string;
        significant: boolean;
        variants: { variant: string; n: number; completion: { ci95: number[] } }[];
      }[];
    };
    const planted = body.experiments.find((e) => e.experiment === "planted")!;
    const none = body.experiments.find((e) => e.experiment === "null-difference")!;
    expect(planted.variants.map((v) => [v.variant, v.n])).toEqual([
      ["fast-track", counts["fast-track"]],
      ["guided-start", counts["guided-start"]],
    ]);
    expect(planted.significant).toBe(true);
    expect(none.significant).toBe(false);
  });
});

describe("suggestions", () => {
  it("suggest the planted winning flow, and once published it changes routing for that segment only", async () => {
    await appendAnalytics(services, [
      ...cohort("smb", "fast-track", "small-experienced-self-serve", 300, 120),
      ...cohort("smb", "high-touch", "large-team", 100, 75),
      ...cohort("mid_market", "fast-track", "small-experienced-self-serve", 300, 150),
      ...cohort("mid_market", "high-touch", "large-team", 100, 52),
    ]);
    const app = appOver(() => services);
    const res = await app.request(`/v1/admin/suggestions?from=${at(-1)}&to=${at(200_000)}`, {
      headers: { authorization: `Bearer ${t.tokens.admin}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      suggestions: { id: string; ruleset: { files: Record<string, unknown> } }[];
    };
    expect(body.suggestions.map((s) => s.id)).toEqual(["suggested-smb-high-touch"]);

    // Nothing changed yet: publish goes through the rules store like PUT /v1/admin/rules.
    const store = createRulesStore(services.redis, services.keys);
    const published = await store.publish({
      files: body.suggestions[0]!.ruleset.files,
      message: "accept suggested-smb-high-touch",
      author: "test",
      source: "api",
      expected: "any",
    });
    expect(published.ok).toBe(true);
    const after: RouterServices = {
      ...services,
      rules: createRedisRulesRuntime(services.redis, services.keys),
    };
    const routed = async (svc: RouterServices, accountId: string, employees: number) => {
      await svc.redis.set(
        svc.keys.account.handover(accountId),
        JSON.stringify({
          handoverId: `ho_${accountId}`,
          account: { name: "X", industry: "software", region: "NA", employees },
        }),
      );
      const res = await appOver(() => svc).request("/v1/route", {
        method: "POST",
        headers: { authorization: `Bearer ${t.tokens.api}`, "content-type": "application/json" },
        body: JSON.stringify({
          accountId,
          survey: {
            answers: {
              teamSize: 10,
              priorExperience: "expert",
              goLiveTimeline: "within_quarter",
              supportStyle: "self_serve",
            },
          },
        }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { flow: { id: string } }).flow.id;
    };
    for (const [employees, segment] of [
      [20, "smb"],
      [400, "mid_market"],
    ] as const) {
      const before = await routed(services, `before-${segment}`, employees);
      const now = await routed(after, `after-${segment}`, employees);
      if (segment === "smb") {
        expect(before).not.toBe("high-touch");
        expect(now).toBe("high-touch");
      } else expect(now).toBe(before);
    }
  });
});
