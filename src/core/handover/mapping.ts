import { err, ok, type Result } from "../result.js";
import type {
  ConstantRule,
  Conversion,
  EachRule,
  HandoverMapping,
  MappingRule,
  ValueRule,
} from "./mapping-schema.js";
import { type FieldIssue, parseCanonicalHandover } from "./parse.js";
import type { CanonicalHandover } from "./schema.js";

/**
 * Applies a handover mapping (see `rules/handover-mappings/README.md`) to a CRM payload. The
 * output is not yet trusted: `mapHandover` sends it through the canonical schema.
 */

const DEFAULT_EACH_MAX = 200;

/** The value at a dotted path (own properties and array indexes only); `undefined` when absent. */
export function readPath(root: unknown, path: string): unknown {
  let node: unknown = root;
  for (const segment of path.split(".")) {
    if (Array.isArray(node) && /^\d+$/.test(segment)) node = node[Number(segment)];
    else if (typeof node === "object" && node !== null && Object.hasOwn(node, segment)) {
      node = (node as Record<string, unknown>)[segment];
    } else return undefined;
  }
  return node;
}

function writePath(target: Record<string, unknown>, path: string, value: unknown): void {
  const segments = path.split(".");
  let node = target;
  for (const segment of segments.slice(0, -1)) {
    const next = Object.hasOwn(node, segment) ? node[segment] : undefined;
    if (typeof next === "object" && next !== null && !Array.isArray(next))
      node = next as Record<string, unknown>;
    else {
      const created: Record<string, unknown> = {};
      node[segment] = created;
      node = created;
    }
  }
  node[segments[segments.length - 1]!] = value;
}

const isAbsent = (v: unknown) => v === undefined || v === null || v === "";

type Scope = { readonly root: unknown; readonly item: unknown };

function read(scope: Scope, path: string): unknown {
  return path.startsWith("$.") ? readPath(scope.root, path.slice(2)) : readPath(scope.item, path);
}

type Converted = { ok: true; value: unknown } | { ok: false; message: string };

const describe = (v: unknown) => JSON.stringify(v)?.slice(0, 60) ?? String(v);

function convert(value: unknown, as: Conversion, separator: string): Converted {
  switch (as) {
    case "string":
      return typeof value === "string" || typeof value === "number" || typeof value === "boolean"
        ? { ok: true, value: String(value) }
        : { ok: false, message: `expected text, got ${describe(value)}` };
    case "number":
    case "integer": {
      const n = typeof value === "number" ? value : typeof value === "string" ? toNumber(value) : Number.NaN;
      if (!Number.isFinite(n) || (as === "integer" && !Number.isInteger(n))) {
        return {
          ok: false,
          message: `expected ${as === "integer" ? "a whole number" : "a number"}, got ${describe(value)}`,
        };
      }
      return { ok: true, value: n };
    }
    case "boolean": {
      if (typeof value === "boolean") return { ok: true, value };
      const t = String(value).trim().toLowerCase();
      if (["true", "1", "yes", "y"].includes(t)) return { ok: true, value: true };
      if (["false", "0", "no", "n"].includes(t)) return { ok: true, value: false };
      return { ok: false, message: `expected true or false, got ${describe(value)}` };
    }
    case "list": {
      const items = Array.isArray(value) ? value : String(value).split(separator);
      const out = items
        .map((i) => (typeof i === "string" ? i.trim() : typeof i === "number" ? String(i) : i))
        .filter((i) => i !== "" && i !== null && i !== undefined);
      return { ok: true, value: out };
    }
    case "date": {
      // HubSpot sends dates as ISO text or as epoch milliseconds; both become ISO 8601.
      if (typeof value === "number" || (typeof value === "string" && /^\d{10,15}$/.test(value))) {
        const d = new Date(Number(value));
        return Number.isNaN(d.getTime())
          ? { ok: false, message: `expected a date, got ${describe(value)}` }
          : { ok: true, value: d.toISOString() };
      }
      return typeof value === "string"
        ? { ok: true, value }
        : { ok: false, message: `expected a date, got ${describe(value)}` };
    }
    case "day": {
      // A calendar date (YYYY-MM-DD). HubSpot's date properties are midnight UTC in epoch
      // milliseconds; a date-time keeps the date it was written with.
      if (typeof value === "number" || (typeof value === "string" && /^\d{10,15}$/.test(value))) {
        const d = new Date(Number(value));
        return Number.isNaN(d.getTime())
          ? { ok: false, message: `expected a date, got ${describe(value)}` }
          : { ok: true, value: d.toISOString().slice(0, 10) };
      }
      const day = typeof value === "string" ? /^(\d{4}-\d{2}-\d{2})(?:T.*)?$/.exec(value)?.[1] : undefined;
      return day
        ? { ok: true, value: day }
        : { ok: false, message: `expected a date, got ${describe(value)}` };
    }
  }
}

function toNumber(text: string): number {
  const t = text.trim();
  return /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(t) ? Number(t) : Number.NaN;
}

function lookup(map: Record<string, unknown>, value: unknown): { found: boolean; value?: unknown } {
  const key = String(value);
  if (Object.hasOwn(map, key)) return { found: true, value: map[key] };
  const lower = key.trim().toLowerCase();
  for (const [k, v] of Object.entries(map)) if (k.toLowerCase() === lower) return { found: true, value: v };
  return { found: false };
}

function applyValue(rule: ValueRule, scope: Scope, target: string, issues: FieldIssue[]): unknown {
  const paths = typeof rule.from === "string" ? [rule.from] : rule.from;
  let value: unknown;
  if (rule.join !== undefined) {
    const parts = paths.map((p) => read(scope, p)).filter((v) => !isAbsent(v));
    value = parts.length > 0 ? parts.map(String).join(rule.join) : undefined;
  } else {
    value = paths.map((p) => read(scope, p)).find((v) => !isAbsent(v));
  }
  if (isAbsent(value)) return rule.default;
  if (rule.map) {
    const hit = lookup(rule.map, value);
    if (hit.found) value = hit.value;
    else if (rule.otherwise !== undefined) value = rule.otherwise;
  }
  if (rule.as && !isAbsent(value)) {
    const converted = convert(value, rule.as, rule.separator ?? ";");
    if (!converted.ok) {
      issues.push({ path: target, message: `${converted.message} (from ${paths.join(" | ")})` });
      return undefined;
    }
    value = converted.value;
  }
  return value;
}

function applyFields(
  fields: Record<string, MappingRule>,
  scope: Scope,
  prefix: string,
  issues: FieldIssue[],
) {
  const out: Record<string, unknown> = {};
  let any = false;
  for (const [path, rule] of Object.entries(fields)) {
    const value = applyRule(rule, scope, prefix ? `${prefix}.${path}` : path, issues);
    if (value !== undefined) {
      writePath(out, path, value);
      any = true;
    }
  }
  return any ? out : undefined;
}

function applyEach(rule: EachRule, scope: Scope, target: string, issues: FieldIssue[]): unknown[] {
  const list = read(scope, rule.each);
  if (!Array.isArray(list)) return [];
  const out: unknown[] = [];
  for (const [i, item] of list.slice(0, rule.max ?? DEFAULT_EACH_MAX).entries()) {
    if (rule.when !== undefined && isAbsent(read({ root: scope.root, item }, rule.when))) continue;
    const mapped = applyFields(rule.fields, { root: scope.root, item }, `${target}.${i}`, issues);
    if (mapped !== undefined) out.push(mapped);
  }
  return out;
}

function applyRule(rule: MappingRule, scope: Scope, target: string, issues: FieldIssue[]): unknown {
  if ("value" in rule) return structuredClone((rule as ConstantRule).value);
  if ("each" in rule) return applyEach(rule, scope, target, issues);
  if ("list" in rule) {
    const out: unknown[] = [];
    for (const [i, r] of rule.list.entries()) {
      const v = applyRule(r, scope, `${target}.${i}`, issues);
      if (v !== undefined) out.push(v);
    }
    return out;
  }
  if ("from" in rule) return applyValue(rule, scope, target, issues);
  if (rule.when !== undefined && isAbsent(read(scope, rule.when))) return undefined;
  return applyFields(rule.fields, scope, target, issues);
}

/** Builds a handover-shaped object from a CRM payload; conversion failures are issues at the target path. */
export function applyMapping(mapping: HandoverMapping, payload: unknown): Result<unknown, FieldIssue[]> {
  const issues: FieldIssue[] = [];
  const out = applyFields(mapping.fields, { root: payload, item: payload }, "", issues) ?? {};
  return issues.length > 0 ? err(issues) : ok(out);
}

/** Maps a CRM payload and validates the result as a canonical handover. */
export function mapHandover(
  mapping: HandoverMapping,
  payload: unknown,
): Result<CanonicalHandover, FieldIssue[]> {
  const mapped = applyMapping(mapping, payload);
  return mapped.ok ? parseCanonicalHandover(mapped.value) : mapped;
}
