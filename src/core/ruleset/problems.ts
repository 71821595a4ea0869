import type { z } from "zod";

/** One thing wrong (or suspicious) in a ruleset: the file, a JSON path inside it, and what is wrong. */
export interface RuleProblem {
  readonly file: string;
  readonly path: string;
  readonly message: string;
}

/** `$.rules[2].conditions.all[0].fact` from a key list. */
export function jsonPath(keys: readonly PropertyKey[], base = "$"): string {
  let out = base;
  for (const k of keys) {
    if (typeof k === "number") out += `[${k}]`;
    else if (typeof k === "string" && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k)) out += `.${k}`;
    else out += `[${JSON.stringify(String(k))}]`;
  }
  return out;
}

/** Zod issues as problems: unions narrowed to the closest branch, unknown keys one per key, "required" for missing. */
export function issuesToProblems(
  file: string,
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): RuleProblem[] {
  const out: RuleProblem[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      const closest = [...issue.errors].sort((a, b) => a.length - b.length)[0]!;
      out.push(...issuesToProblems(file, closest, path));
    } else if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys)
        out.push({ file, path: jsonPath([...path, key]), message: `unknown key "${key}"` });
    } else if (issue.code === "invalid_key") {
      out.push({
        file,
        path: jsonPath(path),
        message: `invalid key: ${issue.issues[0]?.message ?? issue.message}`,
      });
    } else if (issue.code === "invalid_type" && issue.message.endsWith("received undefined")) {
      out.push({ file, path: jsonPath(path), message: "required" });
    } else {
      out.push({ file, path: jsonPath(path), message: issue.message.replace(/^Invalid input: /, "") });
    }
  }
  return out;
}
