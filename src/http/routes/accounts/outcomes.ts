import { z } from "zod";
import { recordOutcome } from "../../../adapters/analytics/recorder.js";
import { REMEMBER_SEEN_LUA } from "../../../adapters/redis/seen-index.js";
import { newId, SUBJECT_ID_MESSAGE, SUBJECT_ID_PATTERN } from "../../../core/ids.js";
import { readJson } from "../../body.js";
import type { Endpoint } from "../../context.js";
import { ApiError, detailOf, zodFieldErrors } from "../../errors.js";
import type { RouterServices } from "../../services.js";
import { accountNotFound, accountParams, parseParams } from "./params.js";

const OUTCOME_DEDUPE_SECONDS = 400 * 86_400;

export const outcomeSchema = z
  .strictObject({
    type: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/,
        "must be nps, activated, value_realized, churned or a custom id",
      ),
    score: z.number().int().min(0).max(10).optional(),
    value: z.number().finite().optional(),
    at: z.iso.datetime({ offset: true }).optional(),
    outcomeId: z.string().regex(SUBJECT_ID_PATTERN, SUBJECT_ID_MESSAGE).optional(),
    userId: z.string().regex(SUBJECT_ID_PATTERN, SUBJECT_ID_MESSAGE).optional(),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((o, ctx) => {
    if (o.type === "nps" && o.score === undefined)
      ctx.addIssue({ code: "custom", path: ["score"], message: "nps needs a score 0–10" });
  })
  .meta({ id: "Outcome", example: { type: "nps", score: 9, outcomeId: "nps-2026-q4-acme" } });

const accepted = z.object({ outcomeId: z.string(), accepted: z.literal(true), duplicate: z.boolean() });

/** KEYS: meta, dedupe, events, seen index. ARGV: outcome JSON, outcomeId, ttl. → 'missing' | 'duplicate' | 'stored' */
const RECORD = `${REMEMBER_SEEN_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[3]) == false then return 'duplicate' end
remember(KEYS[4], KEYS[2], ARGV[3])
redis.call('LPUSH', KEYS[3], ARGV[1])
redis.call('LTRIM', KEYS[3], 0, 999)
return 'stored'
`;

/** `POST /v1/accounts/:accountId/outcomes`: record an outcome once per `outcomeId`. */
export const postOutcome: Endpoint<RouterServices> = {
  method: "POST",
  path: "/v1/accounts/:accountId/outcomes",
  scopes: ["api", "public"],
  openapi: {
    tags: ["accounts"],
    summary: "Record an outcome (nps with score, activated, value_realized, churned, custom)",
    description:
      "Idempotent on `outcomeId`: the same id again answers 202 with `duplicate: true` and changes nothing.",
    request: {
      params: accountParams,
      body: { content: { "application/json": { schema: outcomeSchema } }, required: true },
    },
    responses: {
      202: { description: "Recorded", content: { "application/json": { schema: accepted } } },
      404: { description: "an account the service has never seen" },
    },
  },
  handler: async (c, svc) => {
    // Size → media type → syntax before validation (the path id included), as the contract orders.
    const body = await readJson(c);
    const { accountId } = parseParams(accountParams, c.req.param());
    const parsed = outcomeSchema.safeParse(body);
    if (!parsed.success) {
      const errors = zodFieldErrors(parsed.error.issues);
      throw new ApiError("validation_failed", detailOf(errors), errors);
    }
    const o = parsed.data;
    const outcomeId = o.outcomeId ?? newId("oc", 16);
    const at = o.at ?? svc.clock.now().toISOString();
    const record = JSON.stringify({ kind: "outcome", ...o, outcomeId, at, accountId });
    const k = svc.keys.account;
    const status = (await svc.redis.eval(
      RECORD,
      4,
      k.meta(accountId),
      k.outcomeSeen(accountId, outcomeId),
      k.events(accountId),
      k.seen(accountId),
      record,
      outcomeId,
      OUTCOME_DEDUPE_SECONDS,
    )) as string;
    if (status === "missing") throw accountNotFound(accountId);
    // Analytics (issue 10): ids and the score only, attributed to the subject's flow. Awaited (it
    // never throws): the edge closes its per-request Redis connection when the answer is sent.
    if (status === "stored") {
      const value = o.type === "nps" ? o.score : o.value;
      await recordOutcome(svc, { accountId, userId: o.userId, type: o.type, value, at });
    }
    return c.json({ outcomeId, accepted: true, duplicate: status === "duplicate" }, 202);
  },
};
