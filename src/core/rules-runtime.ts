import type { FlowDefinition, Ruleset } from "./ruleset/index.js";

/** The ruleset in force: one consistent version per decision. */
export interface ActiveRules {
  readonly version: number;
  readonly ruleset: Ruleset;
  /** flowId → the flow's own version number in this ruleset version. */
  readonly flowVersions: Readonly<Record<string, number>>;
}

/**
 * Where rulesets come from. Node keeps the active version in memory and hears about new
 * ones over pub/sub (plus a timer); the edge checks the active version in Redis per request.
 */
export interface RulesRuntime {
  /** The active ruleset, or undefined while none is loaded (readiness fails then). */
  active(): Promise<ActiveRules | undefined>;
  /** A flow definition at a pinned version (instances keep the version they started on). */
  flow(flowId: string, version: number): Promise<FlowDefinition | undefined>;
  /** Re-reads the active version now (runtimes that keep it in memory). */
  refresh?(): Promise<void>;
}
