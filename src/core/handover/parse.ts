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
    out.push({ path: base.join("."), message: issue.message });
  }
  return out;
}

/** Validates a parsed JSON body as a canonical handover; failures carry every issue with its path. */
export function parseCanonicalHandover(input: unknown): Result<CanonicalHandover, FieldIssue[]> {
  const parsed = canonicalHandoverSchema.safeParse(input);
  return parsed.success ? ok(parsed.data) : err(toFieldIssues(parsed.error));
}
