import { z } from "zod";

/**
 * The mapping language CS ops edit in `rules/handover-mappings/*.json` (see its README.md):
 * declarative rules, no code, no expressions. Sizes are capped so a mapping is cheap to apply.
 */

const FORBIDDEN_SEGMENTS = new Set(["__proto__", "prototype", "constructor"]);
const SEGMENT = /^[A-Za-z0-9_$@:-]{1,64}$/;

const safePath = (label: string) =>
  z
    .string()
    .max(256)
    .refine(
      (p) => p.split(".").every((s) => SEGMENT.test(s) && !FORBIDDEN_SEGMENTS.has(s)),
      `expected a dotted ${label} path of letters, digits, _ $ @ : - (not __proto__, prototype, constructor)`,
    );

/** Where a value is read from in the CRM payload: `deal.properties.amount`, `contacts.0.id`, `$.company.id`. */
export const sourcePathSchema = safePath("source");
/** Where a value is written in the handover: `deal.amount`, `account.region`. */
export const targetPathSchema = safePath("target");

const scalar = z.union([z.string().max(2000), z.number(), z.boolean(), z.null()]);
const json: z.ZodType<unknown> = z.lazy(() =>
  z.union([scalar, z.array(json).max(100), z.record(z.string().max(64), json)]),
);

export const CONVERSIONS = ["string", "number", "integer", "boolean", "list", "date", "day"] as const;
export type Conversion = (typeof CONVERSIONS)[number];

export type ValueRule = {
  from: string | string[];
  join?: string | undefined;
  as?: Conversion | undefined;
  separator?: string | undefined;
  map?: Record<string, unknown> | undefined;
  otherwise?: unknown;
  default?: unknown;
};
export type ConstantRule = { value: unknown };
export type EachRule = {
  each: string;
  fields: Record<string, MappingRule>;
  max?: number | undefined;
  when?: string | undefined;
};
export type ObjectRule = { fields: Record<string, MappingRule>; when?: string | undefined };
export type ListRule = { list: MappingRule[] };
export type MappingRule = ValueRule | ConstantRule | EachRule | ObjectRule | ListRule;

const valueRule = z.strictObject({
  from: z.union([sourcePathSchema, z.array(sourcePathSchema).min(1).max(10)]),
  join: z.string().max(16).optional(),
  as: z.enum(CONVERSIONS).optional(),
  separator: z.string().min(1).max(16).optional(),
  map: z.record(z.string().max(200), json).optional(),
  otherwise: json.optional(),
  default: json.optional(),
});

const constantRule = z.strictObject({ value: json });

const fieldsSchema: z.ZodType<Record<string, MappingRule>> = z.lazy(() =>
  z
    .record(targetPathSchema, ruleSchema)
    .refine((r) => Object.keys(r).length <= 100, "expected at most 100 fields"),
);

const eachRule = z.strictObject({
  each: sourcePathSchema,
  fields: fieldsSchema,
  max: z.int().min(1).max(1000).optional(),
  when: sourcePathSchema.optional(),
});

const objectRule = z.strictObject({ fields: fieldsSchema, when: sourcePathSchema.optional() });

const listRule: z.ZodType<ListRule> = z.lazy(() =>
  z.strictObject({ list: z.array(ruleSchema).min(1).max(50) }),
);

/** One rule: a value read from the payload, a constant, an object, a list, or one object per array item. */
export const ruleSchema: z.ZodType<MappingRule> = z.lazy(() =>
  z.union([valueRule, constantRule, eachRule, objectRule, listRule]),
);

/** A mapping file: canonical handover paths → rules. Plug into the ruleset validator for `handover-mappings/*.json`. */
export const handoverMappingSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().max(2000).optional(),
  fields: fieldsSchema,
});

export type HandoverMapping = z.infer<typeof handoverMappingSchema>;
