import flowSchema from "../../rules/schema/flow.schema.json";
import routingSchema from "../../rules/schema/routing.schema.json";
import settingsSchema from "../../rules/schema/settings.schema.json";
import surveySchema from "../../rules/schema/survey.schema.json";
import testsSchema from "../../rules/schema/tests.schema.json";
import type { Segment } from "./json-path.js";

/** The JSON Schema subset completion reads. */
interface Schema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  description?: string;
  $defs?: Record<string, Schema>;
}

/** The generated schema (rules/schema, bundled at build time) that applies to a ruleset file. */
export function schemaForFile(file: string): Schema | undefined {
  if (file === "settings.json") return settingsSchema as Schema;
  if (file === "survey.json") return surveySchema as Schema;
  if (file.startsWith("routing/")) return routingSchema as Schema;
  if (file.startsWith("flows/")) return flowSchema as Schema;
  if (file.startsWith("tests/")) return testsSchema as Schema;
  return undefined;
}

function deref(s: Schema, root: Schema, depth = 0): Schema {
  if (!s.$ref || depth > 20) return s;
  const m = /^#\/\$defs\/(.+)$/.exec(s.$ref);
  const target = m?.[1] ? root.$defs?.[m[1]] : undefined;
  return target ? deref(target, root, depth + 1) : s;
}

/** The schema and every branch it may take (anyOf/oneOf/allOf flattened). */
function branches(s: Schema, root: Schema, depth = 0): Schema[] {
  const r = deref(s, root);
  if (depth > 6) return [r];
  const subs = [...(r.anyOf ?? []), ...(r.oneOf ?? []), ...(r.allOf ?? [])];
  return [r, ...subs.flatMap((x) => branches(x, root, depth + 1))];
}

/** Every schema that may apply at `path` inside a file's root schema. */
export function schemasAt(root: Schema, path: readonly Segment[]): Schema[] {
  let current = branches(root, root);
  for (const seg of path) {
    const next: Schema[] = [];
    for (const s of current) {
      if (typeof seg === "number") {
        if (s.items) next.push(s.items);
      } else {
        const p = s.properties?.[seg];
        if (p) next.push(p);
        else if (typeof s.additionalProperties === "object") next.push(s.additionalProperties);
      }
    }
    current = next.flatMap((x) => branches(x, root));
    if (current.length === 0) break;
  }
  return current;
}

/** A completion suggestion. */
export interface Suggestion {
  readonly label: string;
  /** Text to insert. */
  readonly apply: string;
  readonly detail?: string;
}

/** Keys the schema allows at `path` that the object does not have yet. */
export function keySuggestions(
  root: Schema,
  path: readonly Segment[],
  present: readonly string[],
): Suggestion[] {
  const seen = new Set(present);
  const out: Suggestion[] = [];
  for (const s of schemasAt(root, path)) {
    for (const [k, v] of Object.entries(s.properties ?? {})) {
      if (seen.has(k) || k === "$schema") continue;
      seen.add(k);
      const d = deref(v, root).description;
      out.push({ label: k, apply: `"${k}": `, ...(d ? { detail: d } : {}) });
    }
  }
  return out;
}

/** Values (enum/const/booleans) the schema allows for `key` of the object at `path`. */
export function valueSuggestions(root: Schema, path: readonly Segment[], key: string): Suggestion[] {
  const seen = new Set<string>();
  const out: Suggestion[] = [];
  for (const s of schemasAt(root, [...path, key])) {
    const vals = [...(s.enum ?? []), ...(s.const !== undefined ? [s.const] : [])];
    if (s.type === "boolean") vals.push(true, false);
    for (const v of vals) {
      const text = JSON.stringify(v);
      if (seen.has(text)) continue;
      seen.add(text);
      out.push({ label: text, apply: text });
    }
  }
  return out;
}
