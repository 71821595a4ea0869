import { afterEach, describe, expect, it } from "vitest";
import { keys as makeKeys } from "../../src/adapters/redis/keys.js";
import { migrateGlobalKeys } from "../../src/adapters/redis/migrate-global-keys.js";
import { createRulesStore } from "../../src/adapters/rules/store.js";
import { silentLogger } from "../../src/core/ports.js";
import { connect, freshPrefix, rulesWithBigTeamsTo, shippedRules } from "./rules-harness.js";

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

const publishArgs = (files: Record<string, unknown>, expected: number | "any") =>
  ({ files, message: "test", author: "tester", source: "api", expected }) as const;

/** Renames every key under `${prefix}{from}` to `${prefix}{to}` (one Redis, so RENAME works). */
async function retag(redis: Awaited<ReturnType<typeof connect>>, prefix: string, from: string, to: string) {
  const found = await redis.keys(`${prefix}{${from}}:*`);
  for (const key of found)
    await redis.rename(key, `${prefix}{${to}}${key.slice(`${prefix}{${from}}`.length)}`);
  return found.length;
}

describe("moving the first key layout's global keys", () => {
  it("keeps published versions, audit, analytics and decision index; leaves an account named 'or' alone", async () => {
    const redis = await connect();
    cleanup.push(() => redis.disconnect());
    const prefix = freshPrefix();
    const k = makeKeys(prefix);
    const store = createRulesStore(redis, k);
    expect((await store.publish(publishArgs((await shippedRules()).files, 0))).ok).toBe(true);
    expect((await store.publish(publishArgs((await rulesWithBigTeamsTo("fast-track")).files, 1))).ok).toBe(
      true,
    );
    // The first layout's decision index (decisionId → accountId), read by no code any more.
    const decisionIndex = `${k.global.analytics.slice(0, -":analytics".length)}:decidx:dec_1`;
    await redis.xadd(k.global.analytics, "*", "kind", "decision");
    await redis.set(decisionIndex, "acme", "EX", 3600);
    await redis.set(k.global.rateLimit("tok", 1), "3", "EX", 60);
    // The first layout: rulesets under {or:rules}, the rest under {or}, next to an account 'or'.
    expect(await retag(redis, prefix, "#rules", "or:rules")).toBeGreaterThan(3);
    expect(await retag(redis, prefix, "#or", "or")).toBe(3);
    await redis.hset(k.account.meta("or"), "seen", "1");
    expect(await createRulesStore(redis, k).activeVersion()).toBeUndefined();

    const moved = await migrateGlobalKeys(redis, k, silentLogger);
    expect(moved).toBeGreaterThan(3);
    const after = createRulesStore(redis, k);
    expect(await after.activeVersion()).toBe(2);
    expect((await after.versions(10)).map((v) => v.version)).toEqual([2, 1]);
    expect((await after.auditLog(10)).length).toBe(2);
    expect(await redis.xlen(k.global.analytics)).toBe(1);
    expect(await redis.get(decisionIndex)).toBe("acme");
    expect(await redis.ttl(decisionIndex)).toBeGreaterThan(3000);
    // Nothing of the old tags is left but the account's own key and the lapsing rate-limit counter.
    expect((await redis.keys(`${prefix}{or:rules}:*`)).length).toBe(0);
    expect((await redis.keys(`${prefix}{or}:*`)).sort()).toEqual(
      [k.account.meta("or"), `${prefix}{or}:rl:tok:1`].sort(),
    );
    // The next publish numbers on from the moved sequence; a second run moves nothing.
    const third = await after.publish(publishArgs((await shippedRules()).files, 2));
    expect(third.ok && third.value.version).toBe(3);
    expect(await migrateGlobalKeys(redis, k, silentLogger)).toBe(0);
  });
});
