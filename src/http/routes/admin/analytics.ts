import { z } from "zod";
import { collectEvents, readEvents, readStuck } from "../../../adapters/analytics/reader.js";
import { experimentFigures, flowFigures } from "../../../core/analytics/report.js";
import type { Endpoint } from "../../context.js";
import type { RouterServices } from "../../services.js";
import { LOOKBACK_MS, windowOf, windowQuery } from "./analytics-window.js";
import { limitQuery } from "./rules-shared.js";
import { getSuggestions } from "./suggestions.js";

const duration = z
  .object({
    median: z.number().nullable().meta({ description: "ms" }),
    p90: z.number().nullable().meta({ description: "ms" }),
    samples: z.number().int(),
  })
  .meta({ id: "DurationSummary" });

const flowRow = z
  .object({
    flow: z.string(),
    segment: z.string(),
    started: z.number().int(),
    completed: z.number().int(),
    failed: z.number().int(),
    completionRate: z.number().nullable(),
    timeToComplete: duration,
    activated: z.number().int(),
    activationRate: z.number().nullable(),
    nps: z.object({
      score: z.number().int().nullable().meta({ description: "promoters % − detractors %" }),
      promoters: z.number().int(),
      passives: z.number().int(),
      detractors: z.number().int(),
      responses: z.number().int(),
    }),
    steps: z.array(
      z.object({
        stepId: z.string(),
        stage: z.string().optional(),
        entered: z.number().int(),
        completed: z.number().int(),
        dropOff: z.number().int(),
        dropOffRate: z.number().nullable(),
        overdue: z.number().int(),
        timeInStep: duration,
      }),
    ),
  })
  .meta({ id: "FlowSegmentFigures" });

const flowsReport = z.object({ from: z.string(), to: z.string(), flows: z.array(flowRow) }).meta({
  id: "FlowsReport",
  example: {
    from: "2026-01-01T00:00:00.000Z",
    to: "2026-01-31T23:59:59.999Z",
    flows: [
      {
        flow: "fast-track",
        segment: "smb",
        started: 120,
        completed: 84,
        failed: 2,
        completionRate: 0.7,
        timeToComplete: { median: 259_200_000, p90: 777_600_000, samples: 84 },
        activated: 80,
        activationRate: 0.667,
        nps: { score: 32, promoters: 30, passives: 16, detractors: 12, responses: 58 },
        steps: [
          {
            stepId: "self-serve-checklist",
            stage: "onboarding",
            entered: 118,
            completed: 90,
            dropOff: 28,
            dropOffRate: 0.237,
            overdue: 0,
            timeInStep: { median: 172_800_000, p90: 604_800_000, samples: 90 },
          },
        ],
      },
    ],
  },
});

/** `GET /v1/admin/analytics/flows`: per flow and segment, how customers fare. */
export const getFlowAnalytics: Endpoint<RouterServices> = {
  method: "GET",
  path: "/v1/admin/analytics/flows",
  scopes: ["admin"],
  openapi: {
    tags: ["admin: analytics"],
    summary: "Completion, time in step, drop-off, NPS and activation per flow and segment",
    description:
      "Counts events whose time lies in `[from, to]`; durations pair each completion in the window with its start up to 90 days earlier. Times are in ms; rates in [0, 1]; NPS = promoters % − detractors % (9–10 promoters, 0–6 detractors).",
    request: { query: windowQuery },
    responses: {
      200: { description: "The report", content: { "application/json": { schema: flowsReport } } },
    },
  },
  handler: async (c, svc) => {
    const w = windowOf(c, svc.clock.now());
    const events = await collectEvents(svc, w.from, w.to, LOOKBACK_MS);
    return c.json(
      {
        from: new Date(w.from).toISOString(),
        to: new Date(w.to).toISOString(),
        flows: flowFigures(events, w),
      },
      200,
    );
  },
};

const stuckReport = z
  .object({
    now: z.string(),
    stuck: z.array(
      z.object({
        accountId: z.string(),
        instanceId: z.string(),
        userId: z.string().optional(),
        flow: z.object({ id: z.string(), version: z.number().int() }),
        segment: z.string(),
        step: z.object({ id: z.string(), type: z.string().nullable(), stage: z.string().nullable() }),
        stepEnteredAt: z.string(),
        dueAt: z.string(),
        overdueSeconds: z.number().int(),
      }),
    ),
  })
  .meta({
    id: "StuckReport",
    example: {
      now: "2026-01-20T09:00:00.000Z",
      stuck: [
        {
          accountId: "acme",
          instanceId: "fi_0123456789abcdef",
          flow: { id: "high-touch", version: 3 },
          segment: "enterprise",
          step: { id: "kickoff-call", type: "task", stage: "onboarding" },
          stepEnteredAt: "2026-01-14T10:00:00.000Z",
          dueAt: "2026-01-16T10:00:00.000Z",
          overdueSeconds: 342_000,
        },
      ],
    },
  });

/** `GET /v1/admin/analytics/stuck`: active instances past their current step's due time. */
export const getStuckAccounts: Endpoint<RouterServices> = {
  method: "GET",
  path: "/v1/admin/analytics/stuck",
  scopes: ["admin"],
  openapi: {
    tags: ["admin: analytics"],
    summary: "Customers stuck past their step's SLA or timeout, most overdue first",
    description:
      "`?limit` 1–1000 (default 500). `step.stage` is derived from where the instance is in its flow.",
    request: { query: z.object({ limit: z.string().optional() }) },
    responses: {
      200: { description: "Stuck instances", content: { "application/json": { schema: stuckReport } } },
    },
  },
  handler: async (c, svc) => {
    const limit = limitQuery(c, 500, 1000);
    const now = svc.clock.now();
    const stuck = await readStuck(svc, now.getTime(), limit);
    return c.json({ now: now.toISOString(), stuck }, 200);
  },
};

const rateFigure = z.object({
  count: z.number().int(),
  rate: z.number().nullable(),
  ci95: z.array(z.number()).meta({ description: "Wilson 95% interval [low, high]" }),
});

const experimentsReport = z
  .object({
    from: z.string(),
    to: z.string(),
    experiments: z.array(
      z.object({
        experiment: z.string(),
        variants: z.array(
          z.object({
            variant: z.string(),
            flow: z.string(),
            n: z.number().int(),
            completion: rateFigure,
            activation: rateFigure,
          }),
        ),
        comparisons: z.array(
          z.object({
            metric: z.enum(["completion", "activation"]),
            a: z.string(),
            b: z.string(),
            diff: z.number(),
            z: z.number(),
            p: z.number(),
            significant: z.boolean(),
          }),
        ),
        significant: z.boolean(),
      }),
    ),
  })
  .meta({
    id: "ExperimentsReport",
    example: {
      from: "2026-01-01T00:00:00.000Z",
      to: "2026-01-31T23:59:59.999Z",
      experiments: [
        {
          experiment: "smb-guided-vs-fast",
          variants: [
            {
              variant: "fast-track",
              flow: "fast-track",
              n: 410,
              completion: { count: 246, rate: 0.6, ci95: [0.552, 0.646] },
              activation: { count: 230, rate: 0.561, ci95: [0.513, 0.608] },
            },
            {
              variant: "guided-start",
              flow: "guided-start",
              n: 395,
              completion: { count: 296, rate: 0.749, ci95: [0.704, 0.79] },
              activation: { count: 270, rate: 0.684, ci95: [0.636, 0.728] },
            },
          ],
          comparisons: [
            {
              metric: "completion",
              a: "fast-track",
              b: "guided-start",
              diff: 0.149,
              z: 4.5,
              p: 0.000007,
              significant: true,
            },
          ],
          significant: true,
        },
      ],
    },
  });

/** `GET /v1/admin/analytics/experiments`: each variant's outcome rates and whether they differ yet. */
export const getExperimentAnalytics: Endpoint<RouterServices> = {
  method: "GET",
  path: "/v1/admin/analytics/experiments",
  scopes: ["admin"],
  openapi: {
    tags: ["admin: analytics"],
    summary:
      "Per experiment: each variant's completion and activation with 95% intervals and a significance test",
    description:
      "Subjects are the instances assigned in `[from, to]`. Every variant is compared with the first (by name) by a pooled two-proportion z-test; `significant` needs p < 0.05 and at least 30 subjects per side.",
    request: { query: windowQuery },
    responses: {
      200: { description: "The report", content: { "application/json": { schema: experimentsReport } } },
    },
  },
  handler: async (c, svc) => {
    const w = windowOf(c, svc.clock.now());
    const events = await collectEvents(svc, w.from, w.to, 0);
    return c.json(
      {
        from: new Date(w.from).toISOString(),
        to: new Date(w.to).toISOString(),
        experiments: experimentFigures(events, w),
      },
      200,
    );
  },
};

/** `GET /v1/admin/analytics/export`: the raw events of a range as NDJSON, streamed. */
export const exportAnalytics: Endpoint<RouterServices> = {
  method: "GET",
  path: "/v1/admin/analytics/export",
  scopes: ["admin"],
  openapi: {
    tags: ["admin: analytics"],
    summary: "Raw analytics events as NDJSON (one JSON object a line), oldest first",
    description:
      "Events carry ids and routing facts only, never emails: `{ type, at, accountId, instanceId?, flow, flowVersion?, segment?, stepId?, stage?, experiment?, variant?, rule?, from?, outcome?, value? }`.",
    request: { query: windowQuery },
    responses: {
      200: {
        description: "NDJSON stream",
        content: {
          "application/x-ndjson": {
            schema: z.string().meta({
              example:
                '{"type":"decision","at":"2026-01-05T10:00:00.000Z","accountId":"acme","instanceId":"fi_0123456789abcdef","flow":"fast-track","flowVersion":1,"segment":"smb"}\n',
            }),
          },
        },
      },
    },
  },
  handler: (c, svc) => {
    const w = windowOf(c, svc.clock.now());
    const encoder = new TextEncoder();
    const events = readEvents(svc, w.from - LOOKBACK_MS, w.to);
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const lines: string[] = [];
        let done = false;
        while (lines.length < 500 && !done) {
          const next = await events.next();
          if (next.done) done = true;
          else if (Date.parse(next.value.at) >= w.from) lines.push(JSON.stringify(next.value));
        }
        if (lines.length > 0) controller.enqueue(encoder.encode(`${lines.join("\n")}\n`));
        if (done) controller.close();
      },
      async cancel() {
        await events.return(undefined);
      },
    });
    return new Response(body, {
      status: 200,
      headers: { "content-type": "application/x-ndjson; charset=utf-8" },
    });
  },
};

/** Every analytics and suggestion endpoint (Node entry only; admin scope). */
export const analyticsEndpoints: Endpoint<RouterServices>[] = [
  getFlowAnalytics,
  getStuckAccounts,
  getExperimentAnalytics,
  exportAnalytics,
  getSuggestions,
];
