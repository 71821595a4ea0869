import type { Facts } from "../../core/decision/types.js";
import { buildFacts, type HandoverView } from "../../core/facts.js";
import { accountOfDecision } from "../../core/routing.js";
import type { Ruleset } from "../../core/ruleset/index.js";
import type { RedisClient } from "../redis/connect.js";
import type { Keys } from "../redis/keys.js";
import { subjectKeyOf } from "./simulate.js";

/** A stored decision record, as the route handler writes it. */
interface DecisionRecord {
  readonly decisionId: string;
  readonly at: string;
  readonly accountId: string;
  readonly userId?: string;
  readonly facts: Facts;
  readonly ruleset: { readonly version: number };
  readonly flow: { readonly id: string; readonly version: number } | string;
  readonly rule?: string | null;
}

export interface BacktestExample {
  readonly decisionId: string;
  readonly accountId: string;
  readonly userId?: string;
  readonly at: string;
  readonly from: string;
  readonly to: string;
  readonly fromRule: string | null;
  readonly toRule: string | null;
}

export interface BacktestReport {
  /** Decisions re-decided. */
  readonly compared: number;
  /** Of those, how many would get another flow. */
  readonly changed: number;
  /** `"<from>→<to>"` → count, unchanged pairs included. */
  readonly matrix: Record<string, number>;
  /** Up to `maxExamples` changed decisions, newest first. */
  readonly examples: BacktestExample[];
  /** Ids in the recent index whose record has expired or was erased. */
  readonly skipped: number;
}

/**
 * The record's facts as the candidate would see them: the same inputs (answers, handover, user,
 * the decision's own `now`), with the derived account facts (segment, revenue tier, regulated, …)
 * worked out again under the candidate's settings, so a settings change shows its effect too.
 */
function refreshedFacts(record: DecisionRecord, candidate: Ruleset): Facts {
  const f = record.facts;
  const now = new Date(f.now);
  if (Number.isNaN(now.getTime())) return f;
  return buildFacts({
    accountId: record.accountId,
    userId: record.userId,
    role: f.user?.role,
    answers: f.survey,
    // Stored as the route built it from a validated handover (or absent).
    handover: f.handover as HandoverView | undefined,
    now,
    settings: candidate.settings,
  });
}

/**
 * Re-decides the stored facts of the last `limit` decisions with `candidate` and counts
 * which flows would change. Records are read one by one (they live in their accounts' slots).
 */
export async function backtestRecentDecisions(
  redis: RedisClient,
  keys: Keys,
  candidate: Ruleset,
  limit: number,
  maxExamples = 20,
): Promise<BacktestReport> {
  const ids = await redis.zrevrange(keys.global.recentDecisions, 0, limit - 1);
  const texts = await Promise.all(
    ids.map((id) => {
      const accountId = accountOfDecision(id);
      return accountId === undefined
        ? Promise.resolve(null)
        : redis.get(keys.account.decision(accountId, id));
    }),
  );
  const matrix: Record<string, number> = {};
  const examples: BacktestExample[] = [];
  let compared = 0;
  let changed = 0;
  let skipped = 0;
  for (const text of texts) {
    if (!text) {
      skipped++;
      continue;
    }
    const record = JSON.parse(text) as DecisionRecord;
    const from = typeof record.flow === "string" ? record.flow : record.flow.id;
    const d = await candidate.decider.decide(
      refreshedFacts(record, candidate),
      subjectKeyOf(record.accountId, record.userId),
    );
    const pair = `${from}→${d.flow}`;
    matrix[pair] = (matrix[pair] ?? 0) + 1;
    compared++;
    if (from === d.flow) continue;
    changed++;
    if (examples.length < maxExamples)
      examples.push({
        decisionId: record.decisionId,
        accountId: record.accountId,
        ...(record.userId ? { userId: record.userId } : {}),
        at: record.at,
        from,
        to: d.flow,
        fromRule: record.rule ?? null,
        toRule: d.rule,
      });
  }
  return { compared, changed, matrix, examples, skipped };
}
