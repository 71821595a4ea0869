import { z } from "zod";
import type { Question, SurveyDefinition } from "./ruleset/schemas.js";

/** The validator for `{ answers }` built from a survey definition (once per ruleset, reused per request). */
export type AnswersSchema = z.ZodType<{ answers: Record<string, unknown> }>;

const typeError = (expected: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? "required" : `expected ${expected}`;

function answerSchema(q: Question): z.ZodType {
  const { min, max } = q;
  switch (q.type) {
    case "number":
    case "integer": {
      let s = z.number({ error: typeError(q.type === "integer" ? "an integer" : "a number") });
      if (q.type === "integer") s = s.int({ error: "expected an integer" });
      if (min !== undefined) s = s.min(min, { error: `must be ≥ ${min}` });
      if (max !== undefined) s = s.max(max, { error: `must be ≤ ${max}` });
      return s;
    }
    case "boolean":
      return z.boolean({ error: typeError("true or false") });
    case "enum": {
      const values = q.values ?? [];
      return z.string({ error: typeError(`one of ${values.join(", ")}`) }).refine((v) => values.includes(v), {
        error: `expected one of ${values.join(", ")}`,
      });
    }
    case "multi": {
      const values = q.values ?? [];
      // refine, not .min/.max: zod runs array length checks even on a string that failed the type check.
      return z
        .array(
          z.string({ error: "expected a string" }).refine((v) => values.includes(v), {
            error: `expected one of ${values.join(", ")}`,
          }),
          { error: typeError(`an array of ${values.join(", ")}`) },
        )
        .refine((a) => min === undefined || a.length >= min, { error: `pick at least ${min}` })
        .refine((a) => max === undefined || a.length <= max, { error: `pick at most ${max}` });
    }
    case "text": {
      let s = z.string({ error: typeError("text") });
      if (min !== undefined) s = s.min(min, { error: `must be at least ${min} characters` });
      if (max !== undefined) s = s.max(max, { error: `must be at most ${max} characters` });
      return s;
    }
    case "date":
      return z.iso.date({
        error: (i) => (i.input === undefined ? "required" : "expected a date (YYYY-MM-DD)"),
      });
  }
}

/** Strict: unknown question ids, wrong types, out-of-range values and missing required answers fail with path `answers.<id>`. */
export function buildAnswersSchema(survey: SurveyDefinition): AnswersSchema {
  const shape: Record<string, z.ZodType> = {};
  for (const q of survey.questions) shape[q.id] = q.required ? answerSchema(q) : answerSchema(q).optional();
  const answersObject = z
    .object(shape, { error: typeError("an object of answers") })
    .catchall(z.unknown().refine(() => false, { error: "unknown question" }));
  // zod skips an own "__proto__" key (JSON.parse creates one); refuse it like any unknown question.
  // zod reads each question's answer as `answers[id]`: on a copy without a prototype, so that a
  // question with id `toString` or `constructor` is not answered by what every object inherits.
  const answers = z.preprocess((value, ctx) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
    if (Object.hasOwn(value, "__proto__")) {
      ctx.addIssue({ code: "custom", path: ["__proto__"], message: "unknown question", input: value });
    }
    return Object.assign(Object.create(null) as Record<string, unknown>, value);
  }, answersObject);
  return z.object({ answers }, { error: typeError("an object") }) as unknown as AnswersSchema;
}
