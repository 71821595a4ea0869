import { z } from "zod";
import { NoRulesetError, routeSubject } from "../../../adapters/redis/route-store.js";
import { CONTACT_ROLES } from "../../../core/handover/schema.js";
import { SUBJECT_ID_MESSAGE, SUBJECT_ID_PATTERN } from "../../../core/ids.js";
import { withoutFactValues } from "../../../core/routing.js";
import { preparedJson } from "../../app.js";
import { readJson } from "../../body.js";
import type { Endpoint } from "../../context.js";
import { ApiError, detailOf, type FieldError, zodFieldErrors } from "../../errors.js";
import type { RouterServices } from "../../services.js";

const subjectId = z.string().regex(SUBJECT_ID_PATTERN, SUBJECT_ID_MESSAGE);

/** The request envelope; `survey.answers` is then checked against the survey in force. */
/** Answers to the shipped survey's required questions, for OpenAPI examples. */
export const EXAMPLE_ANSWERS = {
  teamSize: 40,
  priorExperience: "some",
  goLiveTimeline: "within_month",
  supportStyle: "guided",
} as const;

export const routeRequestSchema = z
  .strictObject({
    accountId: subjectId,
    userId: subjectId.optional(),
    role: z.enum(CONTACT_ROLES).optional(),
    survey: z.strictObject({ answers: z.record(z.string(), z.unknown()) }),
    context: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({
    id: "RouteRequest",
    example: {
      accountId: "acme",
      userId: "u_1",
      role: "admin",
      survey: { answers: EXAMPLE_ANSWERS },
    },
  });

const conditionTrace = z.object({
  fact: z.string(),
  path: z.string().optional(),
  operator: z.string(),
  value: z.unknown(),
  factValue: z.unknown().optional(),
  valueResult: z.unknown().optional().meta({
    description: "the resolved value when `value` refers to a fact (e.g. `now`); not for public keys",
  }),
  result: z.boolean().optional().meta({ description: "whether the condition held; not for public keys" }),
});

export const routeResponseSchema = z
  .object({
    decisionId: z.string(),
    accountId: z.string(),
    userId: z.string().optional(),
    instanceId: z.string(),
    reused: z.boolean(),
    flow: z.object({ id: z.string(), version: z.number().int() }),
    step: z.object({ id: z.string(), type: z.string(), title: z.string() }).nullable().meta({
      description:
        "the current step; null once the flow completed or was cancelled (GET /v1/accounts/:id has the status)",
    }),
    ruleset: z.object({ version: z.number().int() }),
    reasons: z.array(
      z.object({
        rule: z.string(),
        priority: z.number(),
        conditions: z.array(conditionTrace),
        message: z.string().optional(),
        nearestMisses: z
          .array(
            z.object({
              rule: z.string(),
              priority: z.number(),
              result: z.boolean(),
              conditions: z.array(conditionTrace),
            }),
          )
          .optional()
          .meta({
            description:
              "with the default flow: the rules that came closest, with their traces; not for public keys",
          }),
      }),
    ),
    rerouted: z.object({ from: z.string(), to: z.string() }).optional(),
    experiment: z.object({ id: z.string(), variant: z.string() }).optional(),
  })
  .meta({ id: "RouteResponse" });

/** `POST /v1/route`: pick (or return) the onboarding flow for an account/user. */
export const postRoute: Endpoint<RouterServices> = {
  method: "POST",
  path: "/v1/route",
  scopes: ["api", "public"],
  openapi: {
    tags: ["routing"],
    summary: "Pick (or return) the onboarding flow for an account/user",
    description:
      "Runs the active routing rules over the survey answers, the account's latest handover and derived account facts. The same subject gets the same instance (`reused: true`); a public key's answer names rules but carries no fact values.",
    request: { body: { content: { "application/json": { schema: routeRequestSchema } }, required: true } },
    responses: {
      200: {
        description: "The flow instance and why",
        content: { "application/json": { schema: routeResponseSchema } },
      },
    },
  },
  handler: async (c, svc) => {
    const body = await readJson(c);
    const parsed = routeRequestSchema.safeParse(body);
    if (!parsed.success) {
      const errors = zodFieldErrors(parsed.error.issues);
      throw new ApiError("validation_failed", detailOf(errors), errors);
    }
    const rules = await svc.rules.active();
    if (!rules) throw new ApiError("unavailable", "No valid ruleset is loaded yet");
    // The raw answers, not zod's copy: z.record drops an own `__proto__` key, which must be refused
    // as an unknown question like any other, not silently ignored.
    const rawAnswers = (body as { survey: { answers: unknown } }).survey.answers;
    const answers = rules.ruleset.answersSchema.safeParse({ answers: rawAnswers });
    if (!answers.success) {
      const errors: FieldError[] = zodFieldErrors(answers.error.issues, "survey");
      throw new ApiError("validation_failed", detailOf(errors), errors);
    }
    const req = parsed.data;
    try {
      const out = await routeSubject(
        svc,
        {
          accountId: req.accountId,
          userId: req.userId,
          input: {
            answers: answers.data.answers,
            ...(req.role ? { role: req.role } : {}),
            ...(req.context ? { context: req.context } : {}),
          },
        },
        rules,
      );
      const publicKey = c.get("principal")?.scope === "public";
      return preparedJson(
        c,
        JSON.stringify(publicKey ? { ...out, reasons: withoutFactValues(out.reasons) } : out),
        200,
      );
    } catch (error) {
      if (error instanceof NoRulesetError)
        throw new ApiError("unavailable", "No valid ruleset is loaded yet");
      throw error;
    }
  },
};
