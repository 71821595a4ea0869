import type { Decision, Facts, Reason, RuleEvaluation } from "../../core/decision/types.js";
import { buildFacts, type HandoverView } from "../../core/facts.js";
import { reasonsOf } from "../../core/routing.js";
import { contentHash, type Ruleset } from "../../core/ruleset/index.js";
import { subjectKey } from "../../core/ruleset/run-tests.js";
import type { RedisClient } from "../redis/connect.js";
import type { Keys } from "../redis/keys.js";
import { createRulesStore } from "./store.js";

export interface SimulateInput {
  readonly accountId?: string | undefined;
  readonly userId?: string | undefined;
  readonly role?: string | undefined;
  readonly answers: Readonly<Record<string, unknown>>;
  /** The handover to decide with; when absent and `accountId` is given, the account's stored latest one. */
  readonly handover?: HandoverView | undefined;
  readonly now: Date;
}

/** A `/v1/route`-shaped answer that was computed but not stored. */
export interface SimulatedDecision {
  readonly simulated: true;
  readonly accountId: string;
  readonly userId?: string;
  readonly flow: { readonly id: string; readonly version: number | null };
  readonly step: { readonly id: string; readonly type: string; readonly title: string } | null;
  readonly ruleset: { readonly version: number | null; readonly hash: string };
  readonly rule: string | null;
  readonly experiment?: { readonly id: string; readonly variant: string };
  readonly reasons: readonly Reason[];
  readonly evaluations: readonly RuleEvaluation[];
  readonly facts: Facts;
  readonly handoverSource: "request" | "stored" | "none";
}

/** The subject key experiments hash on, the same one `/v1/route` uses. */
/** The experiment seed: the same function `/v1/route` and `rules:check` use. */
export const subjectKeyOf = (accountId: string, userId: string | undefined) => subjectKey(accountId, userId);

/** The account's latest stored handover without the storage metadata. */
async function storedHandover(
  redis: RedisClient,
  keys: Keys,
  accountId: string,
): Promise<HandoverView | undefined> {
  const text = await redis.get(keys.account.handover(accountId));
  if (!text) return undefined;
  const { handoverId: _i, receivedAt: _r, source: _s, ...rest } = JSON.parse(text) as Record<string, unknown>;
  return rest as HandoverView;
}

/**
 * Decides like `/v1/route` with `ruleset` (active or candidate) and writes nothing.
 * `version` is the ruleset's version when it is the active one, null for a candidate.
 */
export async function simulateDecision(
  redis: RedisClient,
  keys: Keys,
  rules: {
    readonly ruleset: Ruleset;
    readonly version: number | null;
    readonly flowVersions?: Readonly<Record<string, number>>;
  },
  input: SimulateInput,
): Promise<SimulatedDecision> {
  const accountId = input.accountId ?? "simulation";
  let handover = input.handover;
  let handoverSource: SimulatedDecision["handoverSource"] = handover ? "request" : "none";
  if (!handover && input.accountId !== undefined) {
    handover = await storedHandover(redis, keys, input.accountId);
    if (handover) handoverSource = "stored";
  }
  const facts = buildFacts({
    accountId,
    userId: input.userId,
    role: input.role,
    answers: input.answers,
    handover,
    now: input.now,
    settings: rules.ruleset.settings,
  });
  const decision: Decision = await rules.ruleset.decider.decide(facts, subjectKeyOf(accountId, input.userId));
  const flow = rules.ruleset.flows.get(decision.flow);
  let flowVersion: number | null = rules.flowVersions?.[decision.flow] ?? null;
  if (flowVersion === null && flow)
    flowVersion =
      (await createRulesStore(redis, keys).knownFlowVersion(decision.flow, await contentHash(flow))) ?? null;
  const first = flow?.steps[0];
  return {
    simulated: true,
    accountId,
    ...(input.userId ? { userId: input.userId } : {}),
    flow: { id: decision.flow, version: flowVersion },
    step: first ? { id: first.id, type: first.type, title: first.title } : null,
    ruleset: { version: rules.version, hash: rules.ruleset.hash },
    rule: decision.rule,
    ...(decision.experiment ? { experiment: decision.experiment } : {}),
    reasons: reasonsOf(decision, handover !== undefined),
    evaluations: decision.evaluations,
    facts,
    handoverSource,
  };
}
