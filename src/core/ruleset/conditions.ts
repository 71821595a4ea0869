import { z } from "zod";
import type { ConditionLeaf, ConditionNode } from "../decision/types.js";

/** json-rules-engine's built-in operators plus the two date operators this service adds. */
export const KNOWN_OPERATORS = [
  "equal",
  "notEqual",
  "in",
  "notIn",
  "contains",
  "doesNotContain",
  "lessThan",
  "lessThanInclusive",
  "greaterThan",
  "greaterThanInclusive",
  "dateBefore",
  "dateAfter",
] as const;

const LEAF_KEYS = new Set(["fact", "operator", "value", "path", "params"]);
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

type Issue = { readonly path: (string | number)[]; readonly message: string };

/** Structural check of a condition tree; reports every problem with its path below the tree. */
export function checkConditionTree(node: unknown, root = true): Issue[] {
  const issues: Issue[] = [];
  walk(node, [], root, issues);
  return issues;
}

function walk(node: unknown, path: (string | number)[], root: boolean, out: Issue[]): void {
  if (!isObject(node)) {
    out.push({
      path,
      message: "expected a condition object ({ all }, { any }, { not } or { fact, operator, value })",
    });
    return;
  }
  const keys = Object.keys(node);
  const bool = keys.filter((k) => k === "all" || k === "any" || k === "not");
  if (bool.length > 0) {
    if (keys.length !== 1) {
      out.push({
        path,
        message: `a boolean node holds exactly one of all, any, not; found ${keys.join(", ")}`,
      });
      return;
    }
    const key = bool[0]!;
    const inner = node[key];
    if (key === "not") {
      walk(inner, [...path, "not"], false, out);
      return;
    }
    if (!Array.isArray(inner)) {
      out.push({ path: [...path, key], message: `expected an array of conditions` });
      return;
    }
    for (const [i, child] of inner.entries()) walk(child, [...path, key, i], false, out);
    return;
  }
  if (root) {
    out.push({
      path,
      message: "the root of conditions must be { all: [...] }, { any: [...] } or { not: ... }",
    });
    return;
  }
  for (const k of keys)
    if (!LEAF_KEYS.has(k)) out.push({ path: [...path, k], message: `unknown key "${k}"` });
  if (typeof node.fact !== "string" || node.fact === "")
    out.push({ path: [...path, "fact"], message: "expected a fact name" });
  if (typeof node.operator !== "string" || node.operator === "")
    out.push({ path: [...path, "operator"], message: "expected an operator name" });
  if (!("value" in node)) out.push({ path: [...path, "value"], message: "required" });
  if ("path" in node && typeof node.path !== "string")
    out.push({ path: [...path, "path"], message: "expected a JSON path such as $.account.industry" });
  if ("params" in node && !isObject(node.params))
    out.push({ path: [...path, "params"], message: "expected an object" });
}

/** A condition tree (root: all/any/not). The JSON Schema for editors is supplied by rules-schema (see CONDITIONS_JSON_SCHEMA). */
export const ConditionsSchema = z
  .custom<ConditionNode>(() => true)
  .superRefine((value, ctx) => {
    for (const issue of checkConditionTree(value))
      ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
  })
  .meta({
    id: "conditions",
    description: "json-rules-engine conditions: { all | any: [...] } or { not: ... } at the root",
  });

/** Visits every leaf with its path relative to the tree's root. */
export function forEachLeaf(
  node: ConditionNode,
  visit: (leaf: ConditionLeaf, path: (string | number)[]) => void,
  path: (string | number)[] = [],
): void {
  if ("all" in node) for (const [i, c] of node.all.entries()) forEachLeaf(c, visit, [...path, "all", i]);
  else if ("any" in node) for (const [i, c] of node.any.entries()) forEachLeaf(c, visit, [...path, "any", i]);
  else if ("not" in node) forEachLeaf(node.not, visit, [...path, "not"]);
  else visit(node, path);
}

/** Hand-written JSON Schema of a condition tree, spliced into the generated files for editor autocompletion. */
export const CONDITIONS_JSON_SCHEMA = {
  $defs: {
    node: {
      oneOf: [
        {
          type: "object",
          properties: { all: { type: "array", items: { $ref: "#/$defs/conditions/$defs/node" } } },
          required: ["all"],
          additionalProperties: false,
        },
        {
          type: "object",
          properties: { any: { type: "array", items: { $ref: "#/$defs/conditions/$defs/node" } } },
          required: ["any"],
          additionalProperties: false,
        },
        {
          type: "object",
          properties: { not: { $ref: "#/$defs/conditions/$defs/node" } },
          required: ["not"],
          additionalProperties: false,
        },
        {
          type: "object",
          properties: {
            fact: { enum: ["survey", "handover", "account", "user", "now"] },
            operator: { anyOf: [{ enum: [...KNOWN_OPERATORS] }, { type: "string", pattern: "^[A-Za-z]+:" }] },
            value: {},
            path: {
              type: "string",
              pattern: "^\\$",
              description: "JSON path inside the fact, e.g. $.account.industry",
            },
            params: { type: "object" },
          },
          required: ["fact", "operator", "value"],
          additionalProperties: false,
        },
      ],
    },
  },
} as const;
