import { z } from "zod";
import { loadRulesetDocument } from "../../../adapters/rules/load.js";
import { simulateDecision } from "../../../adapters/rules/simulate.js";
import type { HandoverView } from "../../../core/facts.js";
import { CONTACT_ROLES, canonicalHandoverSchema } from "../../../core/handover/schema.js";
import { SUBJECT_ID_MESSAGE, SUBJECT_ID_PATTERN } from "../../../core/ids.js";
import { MAX_RULESET_BODY_BYTES } from "../../body.js";
import type { Endpoint } from "../../context.js";
import { ApiError, detailOf, zodFieldErrors } from "../../errors.js";
import type { RouterServices } from "../../services.js";
import { EXAMPLE_ANSWERS } from "../route/post.js";
import { recordAudit } from "./rules-audit.js";
import { invalidRuleset, parseBody, rulesetSchema } from "./rules-shared.js";

const subjectId = z.string().regex(SUBJECT_ID_PATTERN, SUBJECT_ID_MESSAGE);

export const simulateRequestSchema = z
  .strictObject({
    ruleset: rulesetSchema.optional(),
    accountId: subjectId.optional(),
    userId: subjectId.optional(),
    role: z.enum(CONTACT_ROLES).optional(),
    survey: z.strictObject({ answers: z.record(z.string(), z.unknown()) }),
    // A canonical handover, checked like /v1/handover checks one (its accountId may be left out).
    handover: canonicalHandoverSchema.partial({ accountId: true }).optional(),
  })
  .meta({
    id: "RulesSimulateRequest",
    example: {
      accountId: "acme",
      role: "admin",
      survey: { answers: EXAMPLE_ANSWERS },
    },
  });

const simulateResponse = z
  .object({
    simulated: z.literal(true),
    accountId: z.string(),
    userId: z.string().optional(),
    flow: z.object({ id: z.string(), version: z.number().int().nullable() }),
    step: z.object({ id: z.string(), type: z.string(), title: z.string() }).nullable(),
    ruleset: z.object({ version: z.number().int().nullable(), hash: z.string() }),
    rule: z.string().nullable(),
    reasons: z.array(z.unknown()),
    evaluations: z.array(z.unknown()),
    facts: z.record(z.string(), z.unknown()),
    handoverSource: z.enum(["request", "stored", "none"]),
  })
  .meta({ id: "SimulatedDecision" });

/** `POST /v1/admin/rules/simulate`: what `/v1/route` would answer, with the full trace; writes nothing. */
export const simulateRules: Endpoint<RouterServices> = {
  method: "POST",
  path: "/v1/admin/rules/simulate",
  scopes: ["admin"],
  openapi: {
    tags: ["admin: rules"],
    summary: "Simulate a routing decision",
    description:
      "Decides with the candidate `ruleset` (or the active one) exactly like `/v1/route`, returning every rule's evaluation. With `accountId` and no `handover`, the account's stored latest handover is used. Nothing is stored except an audit entry.",
    request: { body: { content: { "application/json": { schema: simulateRequestSchema } }, required: true } },
    responses: {
      200: { description: "The decision", content: { "application/json": { schema: simulateResponse } } },
    },
  },
  handler: async (c, svc) => {
    const body = await parseBody(c, simulateRequestSchema, MAX_RULESET_BODY_BYTES);
    let rules: Parameters<typeof simulateDecision>[2];
    if (body.ruleset) {
      const loaded = await loadRulesetDocument(body.ruleset);
      if (!loaded.ok) throw invalidRuleset(loaded.error);
      rules = { ruleset: loaded.value, version: null };
    } else {
      const active = await svc.rules.active();
      if (!active) throw new ApiError("unavailable", "No valid ruleset is loaded yet");
      rules = active;
    }
    const answers = rules.ruleset.answersSchema.safeParse({ answers: body.survey.answers });
    if (!answers.success) {
      const errors = zodFieldErrors(answers.error.issues, "survey");
      throw new ApiError("validation_failed", detailOf(errors), errors);
    }
    const out = await simulateDecision(svc.redis, svc.keys, rules, {
      accountId: body.accountId,
      userId: body.userId,
      role: body.role,
      answers: answers.data.answers,
      handover: body.handover as HandoverView | undefined, // zod marks optionals `| undefined`
      now: svc.clock.now(),
    });
    const which =
      rules.version === null ? `candidate ${rules.ruleset.hash.slice(0, 12)}` : `version ${rules.version}`;
    await recordAudit(
      c,
      svc,
      "simulate",
      `simulated ${body.accountId ?? "an anonymous account"} with ${which}: ${out.flow.id} (${out.rule ?? "default"})`,
      rules.version ?? undefined,
    );
    return c.json(out, 200);
  },
};
