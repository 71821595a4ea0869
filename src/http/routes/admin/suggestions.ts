import { z } from "zod";
import { collectEvents } from "../../../adapters/analytics/reader.js";
import { flowFigures } from "../../../core/analytics/report.js";
import { rulesBySegmentFlow, SUGGESTED_RULES_FILE, suggestRules } from "../../../core/analytics/suggest.js";
import type { Endpoint } from "../../context.js";
import { ApiError } from "../../errors.js";
import type { RouterServices } from "../../services.js";
import { LOOKBACK_MS, windowOf, windowQuery } from "./analytics-window.js";

const suggestionSchema = z
  .object({
    id: z.string(),
    segment: z.string(),
    current: z.object({ flow: z.string(), started: z.number().int(), completionRate: z.number() }),
    suggested: z.object({ flow: z.string(), started: z.number().int(), completionRate: z.number() }),
    test: z.object({ diff: z.number(), z: z.number(), p: z.number(), significant: z.boolean() }),
    rule: z.record(z.string(), z.unknown()),
    diff: z.object({ files: z.record(z.string(), z.unknown()) }),
    ruleset: z.object({ files: z.record(z.string(), z.unknown()) }),
  })
  .meta({ id: "RuleSuggestion" });

const suggestionsReport = z
  .object({
    from: z.string(),
    to: z.string(),
    basedOn: z.object({ rulesetVersion: z.number().int() }),
    suggestions: z.array(suggestionSchema),
  })
  .meta({
    id: "RuleSuggestions",
    example: {
      from: "2026-01-01T00:00:00.000Z",
      to: "2026-01-31T23:59:59.999Z",
      basedOn: { rulesetVersion: 12 },
      suggestions: [
        {
          id: "suggested-mid_market-high-touch",
          segment: "mid_market",
          current: { flow: "fast-track", started: 300, completionRate: 0.41 },
          suggested: { flow: "high-touch", started: 120, completionRate: 0.72 },
          test: { diff: 0.31, z: 5.7, p: 0.00000001, significant: true },
          rule: {
            name: "suggested-mid_market-high-touch",
            priority: 41,
            conditions: {
              all: [{ fact: "account", path: "$.segment", operator: "equal", value: "mid_market" }],
            },
            event: { type: "route", params: { flow: "high-touch" } },
          },
          diff: { files: { [SUGGESTED_RULES_FILE]: { rules: ["…the rule above…"] } } },
          ruleset: { files: { "settings.json": "…every active file, plus the diff…" } },
        },
      ],
    },
  });

/** `GET /v1/admin/suggestions`: candidate routing changes where one flow clearly serves a segment better. */
export const getSuggestions: Endpoint<RouterServices> = {
  method: "GET",
  path: "/v1/admin/suggestions",
  scopes: ["admin"],
  openapi: {
    tags: ["admin: analytics"],
    summary: "Suggested routing rules, each a candidate ruleset to simulate, backtest and publish",
    description: [
      "Per segment: when the flow with the best completion rate beats the flow the segment mostly gets",
      "(≥ 30 starts each, two-proportion z-test p < 0.05, lift ≥ 5 points), a rule",
      "`suggested-<segment>-<flow>` on `account.segment` is proposed in",
      `\`${SUGGESTED_RULES_FILE}\`, one priority above the rules that route the segment now.`,
      "`diff` holds the changed file, `ruleset` the whole candidate: send it to",
      "`POST /v1/admin/rules/simulate`, `…/backtest`, then `PUT /v1/admin/rules`.",
      "Nothing changes until a person publishes it.",
    ].join(" "),
    request: { query: windowQuery },
    responses: {
      200: {
        description: "Suggestions (possibly none)",
        content: { "application/json": { schema: suggestionsReport } },
      },
    },
  },
  handler: async (c, svc) => {
    const w = windowOf(c, svc.clock.now());
    const active = await svc.rules.active();
    if (!active) throw new ApiError("unavailable", "No ruleset is loaded");
    const events = await collectEvents(svc, w.from, w.to, LOOKBACK_MS);
    const inWindow = events.filter((e) => {
      const t = Date.parse(e.at);
      return t >= w.from && t <= w.to;
    });
    const suggestions = suggestRules({
      figures: flowFigures(events, w),
      rulesBySegmentFlow: rulesBySegmentFlow(inWindow),
      routing: active.ruleset.routing,
      files: active.ruleset.files as Record<string, unknown>,
    });
    return c.json(
      {
        from: new Date(w.from).toISOString(),
        to: new Date(w.to).toISOString(),
        basedOn: { rulesetVersion: active.version },
        suggestions,
      },
      200,
    );
  },
};
