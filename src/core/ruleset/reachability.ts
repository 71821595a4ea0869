import type { ConditionNode, RoutingRule } from "../decision/types.js";
import { canonicalJson } from "./hash.js";

/** A condition in canonical text, once: the whole, its conjuncts, and what implying it takes. */
interface Shape {
  readonly whole: string;
  /** An `all`'s children, otherwise the condition itself. */
  readonly conjuncts: ReadonlySet<string>;
  /** `all`: every one of these; `any`: some one; otherwise: this one. */
  readonly needs: "every" | "some";
  readonly parts: readonly string[];
}

function shapeOf(node: ConditionNode): Shape {
  const whole = canonicalJson(node);
  if ("any" in node)
    return { whole, conjuncts: new Set([whole]), needs: "some", parts: node.any.map(canonicalJson) };
  // An `all` nested in an `all` adds its children to the conjuncts; any other child is one conjunct.
  const children = "all" in node ? conjunctsOf(node) : [whole];
  return { whole, conjuncts: new Set(children), needs: "every", parts: children };
}

function conjunctsOf(node: ConditionNode): string[] {
  if (!("all" in node)) return [canonicalJson(node)];
  return node.all.flatMap((child) => ("all" in child ? conjunctsOf(child) : [canonicalJson(child)]));
}

function implies(later: Shape, earlier: Shape): boolean {
  if (later.whole === earlier.whole || later.conjuncts.has(earlier.whole)) return true;
  // json-rules-engine passes an empty `any` as it does an empty `all`: such a rule always matches.
  if (earlier.needs === "some" && earlier.parts.length === 0) return true;
  return earlier.needs === "every"
    ? earlier.parts.every((c) => later.conjuncts.has(c))
    : earlier.parts.some((c) => later.conjuncts.has(c));
}

/** True when `later` evidently implies `earlier`: same conditions, a superset of its `all`, or one of its `any` arms. */
export function evidentlyImplies(later: ConditionNode, earlier: ConditionNode): boolean {
  return implies(shapeOf(later), shapeOf(earlier));
}

/** Orders rules as the decider tries them: priority high→low, then file path, then position. */
export function byPrecedence(a: RoutingRule, b: RoutingRule): number {
  return b.priority - a.priority || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.index - b.index;
}

/** For each rule that can never win, the first rule ahead of it that shadows it (rules in precedence order). */
export function findShadowedRules(
  rules: readonly RoutingRule[],
): { rule: RoutingRule; shadowedBy: RoutingRule }[] {
  // Each condition is put in canonical text once: comparing pairs is then set lookups only
  // (2,000 rules took 15 s when every pair re-serialised both sides).
  const shapes = rules.map((r) => shapeOf(r.conditions));
  const out: { rule: RoutingRule; shadowedBy: RoutingRule }[] = [];
  rules.forEach((rule, i) => {
    const later = shapes[i]!;
    for (let j = 0; j < i; j++) {
      if (implies(later, shapes[j]!)) {
        out.push({ rule, shadowedBy: rules[j]! });
        return;
      }
    }
  });
  return out;
}
