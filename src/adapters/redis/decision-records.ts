/**
 * Reading decision records. Records store the full trace compactly (`t`, see
 * core/decision/trace-codec.ts); reads expand it with the routing rules of the ruleset version
 * the record names, so every answer holds the same `evaluations` as a record written whole.
 * Records written whole (with `evaluations`) read back unchanged.
 */
import type { CompactEvaluations } from "../../core/decision/trace-codec.js";
import { expandEvaluations } from "../../core/decision/trace-codec.js";
import type { RoutingRule } from "../../core/decision/types.js";
import type { RouterServices } from "../../http/services.js";
import { loadActiveRules } from "../rules/runtime.js";

export type DecisionRecord = Record<string, unknown>;

/** Versions other than the active one, loaded for reads: a few, shared by concurrent reads. */
const MAX_VERSIONS = 4;
const versions = new Map<string, Promise<readonly RoutingRule[] | undefined>>();

async function routingOf(svc: RouterServices, version: number): Promise<readonly RoutingRule[] | undefined> {
  const active = await svc.rules.active().catch(() => undefined);
  if (active?.version === version) return active.ruleset.routing;
  const key = `${svc.keys.prefix}@${version}`;
  let hit = versions.get(key);
  if (hit) {
    versions.delete(key);
  } else {
    hit = loadActiveRules(svc.redis, svc.keys, version).then(
      (rules) => rules?.ruleset.routing,
      () => undefined,
    );
    void hit.then((r) => {
      if (r === undefined) versions.delete(key); // not cached: the next read tries again
    });
  }
  versions.set(key, hit);
  while (versions.size > MAX_VERSIONS) versions.delete(versions.keys().next().value as string);
  return hit;
}

/**
 * A stored record as JSON text → the record as readers see it: `evaluations` expanded from the
 * compact trace, or, when the named ruleset version cannot be loaded, `trace: "unavailable"`
 * in its place.
 */
export function decodeDecisionRecord(svc: RouterServices, text: string): Promise<DecisionRecord> {
  return expandDecisionRecord(svc, JSON.parse(text) as DecisionRecord);
}

/** A parsed stored record → the record as readers see it (see `decodeDecisionRecord`). */
export async function expandDecisionRecord(
  svc: RouterServices,
  record: DecisionRecord,
): Promise<DecisionRecord> {
  if (!Object.hasOwn(record, "t")) return record;
  const { t, ...rest } = record;
  const version = (rest.ruleset as { version?: unknown } | undefined)?.version;
  const routing = typeof version === "number" ? await routingOf(svc, version) : undefined;
  const evaluations =
    routing && Array.isArray(t) ? expandEvaluations(t as CompactEvaluations, routing) : undefined;
  return evaluations ? { ...rest, evaluations } : { ...rest, trace: "unavailable" };
}

/** One decision record with its full trace, or undefined when unknown, expired or erased. */
export async function readDecisionRecord(
  svc: RouterServices,
  accountId: string,
  decisionId: string,
): Promise<DecisionRecord | undefined> {
  const text = await svc.redis.get(svc.keys.account.decision(accountId, decisionId));
  return text ? decodeDecisionRecord(svc, text) : undefined;
}
