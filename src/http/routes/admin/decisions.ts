import { z } from "zod";
import { readDecisionRecord } from "../../../adapters/redis/decision-records.js";
import { accountOfDecision } from "../../../core/routing.js";
import type { Endpoint } from "../../context.js";
import { ApiError } from "../../errors.js";
import type { RouterServices } from "../../services.js";
import { recordAudit } from "./rules-audit.js";

const decisionSchema = z
  .object({
    decisionId: z.string(),
    at: z.string(),
    accountId: z.string(),
    userId: z.string().optional(),
    facts: z.record(z.string(), z.unknown()),
    ruleset: z.object({ version: z.number().int() }),
    flow: z.object({ id: z.string(), version: z.number().int() }),
    reasons: z.array(z.unknown()),
    evaluations: z.array(z.unknown()).optional(),
    trace: z
      .literal("unavailable")
      .optional()
      .meta({ description: "set instead of evaluations when the record's ruleset version cannot be loaded" }),
  })
  .meta({ id: "DecisionRecord" });

/** `GET /v1/admin/decisions/:decisionId`: a stored decision with its facts and full trace. */
export const getDecision: Endpoint<RouterServices> = {
  method: "GET",
  path: "/v1/admin/decisions/:decisionId",
  scopes: ["admin"],
  openapi: {
    tags: ["admin: decisions"],
    summary: "A stored decision: facts, ruleset version, full trace",
    request: {
      params: z.object({ decisionId: z.string().meta({ example: "dec_YWNtZQ_k3j9x0a1b2c3d4e5" }) }),
    },
    responses: {
      200: {
        description: "The decision record",
        content: { "application/json": { schema: decisionSchema } },
      },
      404: { description: "Unknown, expired or erased" },
    },
  },
  handler: async (c, svc) => {
    const decisionId = c.req.param("decisionId") ?? "";
    const accountId = accountOfDecision(decisionId);
    const record = accountId === undefined ? undefined : await readDecisionRecord(svc, accountId, decisionId);
    if (!record || accountId === undefined) {
      await recordAudit(c, svc, "read_decision", `decision ${decisionId.slice(0, 80)} not found`);
      throw new ApiError("not_found", "No such decision (it may have expired or been erased)");
    }
    await recordAudit(c, svc, "read_decision", `read decision ${decisionId} of account ${accountId}`);
    return c.json(record, 200, { "cache-control": "no-store" });
  },
};
