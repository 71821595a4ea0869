import { z } from "zod";
import { CONTACT_ROLES } from "../handover/schema.js";
import { RULE_ID_PATTERN, SUBJECT_ID_PATTERN } from "../ids.js";
import { ConditionsSchema } from "./conditions.js";
import { parseDuration } from "./duration.js";

const Id = z
  .string()
  .regex(RULE_ID_PATTERN, "expected an id: 1-64 letters, digits, _ or -, starting with a letter or digit");
const Currency = z.string().regex(/^[A-Z]{3}$/, "expected an ISO 4217 currency code such as EUR");
const Duration = z
  .string()
  .refine(
    (s) => parseDuration(s) !== null,
    "expected an ISO 8601 duration such as PT2H or P3D (weeks, days, hours, minutes, seconds)",
  )
  .meta({
    description: "ISO 8601 duration: PT30M, PT2H, P3D, P1W",
    examples: ["PT2H", "P3D"],
    pattern: "^P(\\d+W)?(\\d+D)?(T(\\d+H)?(\\d+M)?(\\d+(\\.\\d+)?S)?)?$",
  });
const EventType = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, "expected an event type such as workspace.configured");
const SchemaRef = z.string().optional().meta({ description: "editor hint; ignored by the loader" });

export const SettingsSchema = z.strictObject({
  $schema: SchemaRef,
  defaultFlow: Id.meta({ description: "flow used when no routing rule matches" }),
  currency: Currency.meta({ description: "currency of account.annualValue and revenueTiers" }),
  fx: z
    .record(Currency, z.number().positive())
    .optional()
    .meta({ description: "rates into `currency`: annualValue = deal.amount × fx[deal.currency]" }),
  revenueTiers: z
    .array(
      z.strictObject({
        id: Id,
        maxAnnualValue: z
          .number()
          .nonnegative()
          .nullable()
          .meta({ description: "inclusive upper bound; null = unbounded (last tier only)" }),
      }),
    )
    .min(1)
    .meta({
      description: "ascending; the first tier whose maxAnnualValue ≥ annualValue is account.revenueTier",
    }),
  regulatedIndustries: z
    .array(z.string().min(1))
    .meta({ description: "industries (matched on lower_snake form) that make account.regulated true" }),
});

export const QUESTION_TYPES = ["number", "integer", "boolean", "enum", "multi", "text", "date"] as const;

export const QuestionSchema = z
  .strictObject({
    id: Id,
    label: z.string().min(1),
    help: z.string().optional(),
    type: z.enum(QUESTION_TYPES),
    values: z.array(Id).min(1).optional().meta({ description: "allowed values (enum and multi only)" }),
    min: z
      .number()
      .optional()
      .meta({ description: "number/integer: smallest value; text: shortest length; multi: fewest picks" }),
    max: z
      .number()
      .optional()
      .meta({ description: "number/integer: largest value; text: longest length; multi: most picks" }),
    required: z.boolean().optional(),
  })
  .superRefine((q, ctx) => {
    const listed = q.type === "enum" || q.type === "multi";
    if (listed && !q.values)
      ctx.addIssue({ code: "custom", path: ["values"], message: `a ${q.type} question needs values` });
    if (!listed && q.values)
      ctx.addIssue({ code: "custom", path: ["values"], message: `values apply to enum and multi only` });
    const ranged = q.type === "number" || q.type === "integer" || q.type === "text" || q.type === "multi";
    for (const k of ["min", "max"] as const)
      if (q[k] !== undefined && !ranged)
        ctx.addIssue({
          code: "custom",
          path: [k],
          message: `${k} applies to number, integer, text and multi only`,
        });
    if (q.min !== undefined && q.max !== undefined && q.min > q.max)
      ctx.addIssue({ code: "custom", path: ["min"], message: "min is greater than max" });
  });

export const SurveySchema = z.strictObject({ $schema: SchemaRef, questions: z.array(QuestionSchema).min(1) });

const RouteParamsSchema = z.union([
  z.strictObject({ flow: Id }),
  z.strictObject({
    experiment: Id,
    variants: z
      .array(z.strictObject({ flow: Id, weight: z.number().min(0).max(1_000_000) }))
      .min(1)
      .max(100)
      // Weight 0 pauses an arm without deleting it; at least one arm must take subjects.
      .refine((vs) => vs.some((v) => v.weight > 0), "at least one variant needs a weight above 0")
      .meta({
        description:
          "a stable hash of experiment + subject picks a variant in proportion to weight (0 pauses a variant)",
      }),
  }),
]);

export const RoutingRuleSchema = z.strictObject({
  name: Id.meta({ description: "unique across all routing files" }),
  description: z.string().optional(),
  priority: z.int().min(1).meta({ description: "highest wins; ties: file path order, then position" }),
  conditions: ConditionsSchema,
  event: z.strictObject({ type: z.literal("route"), params: RouteParamsSchema }),
});

export const RoutingFileSchema = z.strictObject({ $schema: SchemaRef, rules: z.array(RoutingRuleSchema) });

const stepBase = {
  id: Id,
  title: z.string().min(1),
  description: z.string().optional(),
  next: Id.optional().meta({
    description: "step to go to after this one; default: the next step in the array",
  }),
  stage: Id.optional().meta({
    description: "lifecycle stage entered with this step, e.g. onboarding, adopting, value_realized",
  }),
};

const ActionStep = z
  .strictObject({
    ...stepBase,
    type: z.literal("action"),
    url: z
      .string()
      .regex(/^https?:\/\/\S+$/, "expected an http(s) URL")
      .optional()
      .meta({ description: "POST target; may hold {{secret:NAME}} references (env FLOW_SECRET_NAME)" }),
    subscriber: z
      .union([
        z.literal(true),
        z.string().regex(/^https?:\/\/\S+$/, "expected true or a URL listed in WEBHOOK_SUBSCRIBERS"),
      ])
      .optional()
      .meta({
        description:
          "notify subscribers instead of a url: true = every URL in WEBHOOK_SUBSCRIBERS; a URL = that one entry (must be listed there)",
      }),
    headers: z
      .record(z.string(), z.string())
      .optional()
      .meta({ description: "extra headers; secrets only as {{secret:NAME}}" }),
    payload: z.json().optional(),
    retries: z.int().min(0).max(10).optional(),
  })
  .superRefine((s, ctx) => {
    if ((s.url === undefined) === (s.subscriber === undefined))
      ctx.addIssue({
        code: "custom",
        path: ["url"],
        message: "an action has exactly one of url or subscriber",
      });
  });

const WaitStep = z
  .strictObject({
    ...stepBase,
    type: z.literal("wait"),
    duration: Duration.optional().meta({ description: "a plain delay" }),
    event: EventType.optional().meta({ description: "event type that ends the wait" }),
    timeout: Duration.optional(),
    onTimeout: Id.optional().meta({
      description: "step to go to when the event has not come within timeout",
    }),
  })
  .superRefine((s, ctx) => {
    const delay = s.duration !== undefined;
    const evented = s.event !== undefined || s.timeout !== undefined || s.onTimeout !== undefined;
    if (delay === evented)
      ctx.addIssue({
        code: "custom",
        path: [],
        message: "a wait has either duration, or event + timeout + onTimeout",
      });
    else if (evented)
      for (const k of ["event", "timeout", "onTimeout"] as const)
        if (s[k] === undefined) ctx.addIssue({ code: "custom", path: [k], message: "required with event" });
  });

const TaskStep = z.strictObject({
  ...stepBase,
  type: z.literal("task"),
  assignee: Id.meta({ description: "a role, e.g. csm, onboarding_specialist, security_team, admin" }),
  sla: Duration,
  businessDays: z
    .boolean()
    .optional()
    .meta({ description: "count sla and reminders in business days (Mon–Fri)" }),
  completeOn: EventType,
  remindEvery: Duration.optional(),
  escalateTo: Id.optional().meta({ description: "role notified when the sla passes" }),
});

const BranchStep = z.strictObject({
  ...stepBase,
  type: z.literal("branch"),
  branches: z.array(z.strictObject({ conditions: ConditionsSchema, next: Id })).min(1),
  otherwise: Id,
});

const EndStep = z.strictObject({ ...stepBase, type: z.literal("end"), outcome: Id.optional() });

export const StepSchema = z.discriminatedUnion("type", [ActionStep, WaitStep, TaskStep, BranchStep, EndStep]);

export const FlowSchema = z.strictObject({
  $schema: SchemaRef,
  id: Id.meta({ description: "must equal the file name without .json" }),
  name: z.string().min(1),
  description: z.string().optional(),
  reroute: z
    .union([z.literal("never"), z.literal("always"), z.strictObject({ untilStep: Id })])
    .meta({ description: "when new facts may move an instance to another flow" }),
  steps: z.array(StepSchema).min(1),
});

export const TestCaseSchema = z.strictObject({
  name: z.string().min(1),
  survey: z.strictObject({ answers: z.record(z.string(), z.json()) }),
  handover: z
    .record(z.string(), z.json())
    .optional()
    .meta({ description: "a canonical handover (POST /v1/handover body)" }),
  role: z.enum(CONTACT_ROLES).optional(),
  accountId: z.string().regex(SUBJECT_ID_PATTERN).optional(),
  userId: z.string().regex(SUBJECT_ID_PATTERN).optional(),
  now: z.iso.datetime({ offset: true }).optional().meta({ description: "default 2026-01-15T09:00:00Z" }),
  expect: z.strictObject({
    flow: Id,
    rule: Id.nullable().optional().meta({ description: "winning rule name; null = the default flow" }),
  }),
});

export const TestsFileSchema = z.strictObject({ $schema: SchemaRef, cases: z.array(TestCaseSchema).min(1) });

export type Settings = z.infer<typeof SettingsSchema>;
export type Question = z.infer<typeof QuestionSchema>;
export type SurveyDefinition = z.infer<typeof SurveySchema>;
export type RoutingFile = z.infer<typeof RoutingFileSchema>;
export type FlowStep = z.infer<typeof StepSchema>;
export type FlowDefinition = z.infer<typeof FlowSchema>;
export type TestCase = z.infer<typeof TestCaseSchema>;
export type TestsFile = z.infer<typeof TestsFileSchema>;
