import type { z } from "zod";
import { err, ok, type Result } from "../result.js";
import { type CanonicalHandover, canonicalHandoverSchema } from "./schema.js";

/** One problem with an input, in the shape of a problem+json `errors[]` entry (CONTRACT.md "Errors"). */
export type FieldIssue = { readonly path: string; readonly message: string };

/** Turns zod issues into `{ path, message }` with dotted paths (`contacts.0.email`); an unknown key gets its own path. */
export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String);
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) out.push({ path: [...base, key].join("."), message: "unknown key" });
      continue;
    }
    out.push({ path: base.join(".") || "(body)", message: issue.message });
  }
  return out;
}

/**
 * A copy without the object keys whose value is `null`: many senders write an absent optional
 * field as null (`"employees": null`), which means the same as leaving it out. A required field
 * sent as null is then reported missing.
 */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  // `__proto__` would set the copy's prototype (its contents read as inherited fields): unknown, dropped.
  for (const [k, v] of Object.entries(value)) if (v !== null && k !== "__proto__") out[k] = withoutNulls(v);
  return out;
}

/** Validates a parsed JSON body as a canonical handover; failures carry every issue with its path. */
export function parseCanonicalHandover(input: unknown): Result<CanonicalHandover, FieldIssue[]> {
  const parsed = canonicalHandoverSchema.safeParse(withoutNulls(input));
  return parsed.success ? ok(parsed.data) : err(toFieldIssues(parsed.error));
}
