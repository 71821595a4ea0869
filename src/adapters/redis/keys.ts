/**
 * Every Redis key the service uses is built here. An account's keys carry its id verbatim
 * inside a `{hash tag}`, so one account lives in one Cluster slot and can be erased by SCAN;
 * global keys share the `{#or}` tag (or `{#rules}` for rulesets). `#` is never part of an
 * account id, so no account's keys (and no account's erase) can reach a global key.
 */
export function keys(prefix = "or:") {
  const acct = (accountId: string) => `${prefix}{${accountId}}`;
  const g = `${prefix}{#or}`;
  const r = `${prefix}{#rules}`;
  return {
    prefix,
    account: {
      /** Hash: seen marker, created/updated times, handover count. Exists ⇔ the account is known. */
      meta: (a: string) => `${acct(a)}:meta`,
      /** String: the latest canonical handover (JSON, with receivedAt and handoverId). */
      handover: (a: string) => `${acct(a)}:handover`,
      /** List: every handover kept for audit, newest first, bounded. */
      handovers: (a: string) => `${acct(a)}:handovers`,
      /** String with TTL: webhook-id → handoverId (72 h dedupe). */
      webhookSeen: (a: string, webhookId: string) => `${acct(a)}:wh:${webhookId}`,
      /** Hash: subject (userId, or "" for the account itself) → instanceId. */
      subjects: (a: string) => `${acct(a)}:subjects`,
      /** Hash: one flow instance's state. */
      instance: (a: string, instanceId: string) => `${acct(a)}:inst:${instanceId}`,
      /** List: one instance's history (JSON entries, oldest first, bounded). */
      history: (a: string, instanceId: string) => `${acct(a)}:hist:${instanceId}`,
      /** String with TTL: a decision record (JSON). */
      decision: (a: string, decisionId: string) => `${acct(a)}:dec:${decisionId}`,
      /** Set: the account's decision ids (for erase of the global index). */
      decisions: (a: string) => `${acct(a)}:decs`,
      /** String with TTL: event dedupe (eventId → applied). */
      eventSeen: (a: string, eventId: string) => `${acct(a)}:evt:${eventId}`,
      /** String with TTL: outcome dedupe. */
      outcomeSeen: (a: string, outcomeId: string) => `${acct(a)}:out:${outcomeId}`,
      /** List: recorded events / outcomes for the account (bounded). */
      events: (a: string) => `${acct(a)}:events`,
      /** Hash: analytics attribution (instance → flow, segment, experiment; subject → instance). */
      attribution: (a: string) => `${acct(a)}:an`,
      /** List: the transactional outbox (intents waiting to become BullMQ jobs). */
      outbox: (a: string) => `${acct(a)}:outbox`,
      /**
       * Sorted set: the account's dedupe keys (webhook, event and outcome ids) scored by when they
       * expire, so an erase finds every one of them in its single atomic call, without a SCAN.
       */
      seen: (a: string) => `${acct(a)}:seen`,
    },
    global: {
      /**
       * String with TTL: a webhook delivery id → the account it was stored for, so the same id
       * sent for another account is still a duplicate (the dedupe record itself is per account).
       */
      webhookOwner: (deliveryId: string) => `${g}:whown:${deliveryId}`,
      /** List: account ids whose outbox has intents (best-effort wake-up for the relay). */
      ready: `${g}:ready`,
      /** String with TTL: which relay process runs the paced outbox sweep now (its lease). */
      sweepLease: `${g}:sweep-lease`,
      /** Sorted set: recent decisions (decisionId scored by time) for backtests. */
      recentDecisions: `${g}:recent-decisions`,
      /** String with TTL: per-token rate-limit counter for one minute window. */
      rateLimit: (tokenId: string, windowStart: number) => `${g}:rl:${tokenId}:${windowStart}`,
      /** Hash: job outcomes of every worker process (`kind|outcome` → count), for /metrics. */
      jobOutcomes: `${g}:metrics:jobs`,
      /** Stream: the analytics log. */
      analytics: `${g}:analytics`,
      /** Sorted set: `<accountId>|<instanceId>` scored by the current step's due time (stuck list). */
      dueIndex: `${g}:analytics:due`,
      /** Hash: daily counters. */
      counters: (day: string) => `${g}:counters:${day}`,
    },
    rules: {
      /** String: the active ruleset version number. */
      active: `${r}:active`,
      /** String: the ruleset document of one version (JSON with meta). */
      version: (v: number) => `${r}:v:${v}`,
      /** Sorted set: version numbers scored by number, for listing. */
      versions: `${r}:versions`,
      /** String: counter for version numbers. */
      seq: `${r}:seq`,
      /** Hash: flowId → latest flow version number; `flowId:hash` → version for content hash. */
      flowVersions: `${r}:flowver`,
      /** String: one flow definition at one version (JSON). */
      flow: (flowId: string, v: number) => `${r}:flow:${flowId}:${v}`,
      /** String: hash of the last RULES_DIR published from the directory. */
      dirHash: `${r}:dirhash`,
      /** List: audit entries (JSON), newest first: every admin call, reads included. */
      audit: `${r}:audit`,
      /**
       * List: the audit entries that changed something (publish, rollback, refused publish),
       * newest first, kept apart so a flood of reads cannot push them out of the capped log.
       */
      auditChanges: `${r}:audit:changes`,
      /** Pub/sub channel announcing a new active version. */
      channel: `${r}:published`,
    },
  };
}

export type Keys = ReturnType<typeof keys>;
