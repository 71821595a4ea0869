import { z } from "zod";
import { backtestRecentDecisions } from "../../../adapters/rules/backtest.js";
import { loadRulesetDocument } from "../../../adapters/rules/load.js";
import { MAX_RULESET_BODY_BYTES } from "../../body.js";
import type { Endpoint } from "../../context.js";
import type { RouterServices } from "../../services.js";
import { recordAudit } from "./rules-audit.js";
import { invalidRuleset, parseBody, rulesetSchema } from "./rules-shared.js";

export const backtestRequestSchema = z
  .strictObject({ ruleset: rulesetSchema, limit: z.number().int().min(1).max(10_000).optional() })
  .meta({ id: "RulesBacktestRequest" });

const backtestResponse = z
  .object({
    compared: z.number().int(),
    changed: z.number().int(),
    skipped: z.number().int(),
    matrix: z.record(z.string(), z.number().int()),
    examples: z.array(
      z.object({
        decisionId: z.string(),
        accountId: z.string(),
        userId: z.string().optional(),
        at: z.string(),
        from: z.string(),
        to: z.string(),
        fromRule: z.string().nullable(),
        toRule: z.string().nullable(),
      }),
    ),
  })
  .meta({
    id: "BacktestReport",
    example: {
      compared: 3,
      changed: 1,
      skipped: 0,
      matrix: { "high-touch→high-touch": 2, "high-touch→fast-track": 1 },
      examples: [],
    },
  });

/** `POST /v1/admin/rules/backtest`: how a candidate ruleset would re-decide recent decisions. */
export const backtestRules: Endpoint<RouterServices> = {
  method: "POST",
  path: "/v1/admin/rules/backtest",
  scopes: ["admin"],
  openapi: {
    tags: ["admin: rules"],
    summary: "Backtest a candidate ruleset over recent decisions",
    description:
      'Re-decides the stored facts of the last `limit` (default 1000) decisions with the candidate. `matrix` counts `"<from>→<to>"` pairs (unchanged ones included); `examples` lists changed decisions.',
    request: { body: { content: { "application/json": { schema: backtestRequestSchema } }, required: true } },
    responses: {
      200: { description: "The comparison", content: { "application/json": { schema: backtestResponse } } },
    },
  },
  handler: async (c, svc) => {
    const body = await parseBody(c, backtestRequestSchema, MAX_RULESET_BODY_BYTES);
    const loaded = await loadRulesetDocument(body.ruleset);
    if (!loaded.ok) throw invalidRuleset(loaded.error);
    const report = await backtestRecentDecisions(svc.redis, svc.keys, loaded.value, body.limit ?? 1000);
    await recordAudit(
      c,
      svc,
      "backtest",
      `backtested candidate ${loaded.value.hash.slice(0, 12)}: ${report.changed} of ${report.compared} decision(s) would change`,
    );
    return c.json(report, 200);
  },
};
