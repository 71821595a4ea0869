/** Small builders for decision tests. */
import type { ConditionNode, Facts, RouteParams, RoutingRule } from "../../../src/core/decision/types.js";

export function rule(
  name: string,
  conditions: ConditionNode,
  params: RouteParams | string,
  at: { priority?: number; file?: string; index?: number } = {},
): RoutingRule {
  return {
    name,
    priority: at.priority ?? 1,
    conditions,
    event: { type: "route", params: typeof params === "string" ? { flow: params } : params },
    file: at.file ?? "routing/main.json",
    index: at.index ?? 0,
  };
}

export function facts(
  overrides: Partial<Omit<Facts, "account">> & { account?: Partial<Facts["account"]> } = {},
): Facts {
  const { account, ...rest } = overrides;
  return {
    survey: {},
    user: { id: "u_1", role: "admin" },
    now: "2024-06-01T12:00:00Z",
    ...rest,
    account: {
      id: "acme",
      segment: "smb",
      revenueTier: "low",
      annualValue: 12_000,
      regulated: false,
      region: "EMEA",
      industry: "software",
      tenureDays: 0,
      productCount: 1,
      handoverGaps: [],
      hasHandover: false,
      ...account,
    },
  };
}
