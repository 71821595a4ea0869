import type { ConditionNode, RoutingRule } from "../decision/types.js";
import { canonicalJson } from "./hash.js";

/** The conjuncts of a condition: an `all`'s children, otherwise the condition itself. */
function conjuncts(node: ConditionNode): Set<string> {
  const parts = "all" in node ? node.all : [node];
  return new Set(parts.map(canonicalJson));
}

/** True when `later` evidently implies `earlier`: same conditions, a superset of its `all`, or one of its `any` arms. */
export function evidentlyImplies(later: ConditionNode, earlier: ConditionNode): boolean {
  if (canonicalJson(later) === canonicalJson(earlier)) return true;
  const have = conjuncts(later);
  if ("all" in earlier) return earlier.all.every((c) => have.has(canonicalJson(c)));
  if ("any" in earlier) return earlier.any.some((c) => have.has(canonicalJson(c)));
  return have.has(canonicalJson(earlier));
}

/** Orders rules as the decider tries them: priority high→low, then file path, then position. */
export function byPrecedence(a: RoutingRule, b: RoutingRule): number {
  return b.priority - a.priority || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.index - b.index;
}

/** For each rule that can never win, the first rule ahead of it that shadows it (rules in precedence order). */
export function findShadowedRules(
  rules: readonly RoutingRule[],
): { rule: RoutingRule; shadowedBy: RoutingRule }[] {
  const out: { rule: RoutingRule; shadowedBy: RoutingRule }[] = [];
  rules.forEach((rule, i) => {
    const by = rules.slice(0, i).find((earlier) => evidentlyImplies(rule.conditions, earlier.conditions));
    if (by) out.push({ rule, shadowedBy: by });
  });
  return out;
}
