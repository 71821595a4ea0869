import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { keys as makeKeys } from "../../src/adapters/redis/keys.js";
import { createRedisRulesRuntime, loadActiveRules } from "../../src/adapters/rules/runtime.js";
import { publishRulesDirAtStart } from "../../src/adapters/rules/startup.js";
import { createRulesStore } from "../../src/adapters/rules/store.js";
import {
  connect,
  freshPrefix,
  type Instance,
  rulesWithBigTeamsTo,
  shippedRules,
  startInstance,
} from "./rules-harness.js";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

async function client() {
  const redis = await connect();
  cleanup.push(() => redis.disconnect());
  return redis;
}

async function instance(prefix: string): Promise<Instance> {
  const i = await startInstance(prefix);
  cleanup.push(() => i.close());
  return i;
}

const publishArgs = (files: Record<string, unknown>, expected: number | "any") =>
  ({ files, message: "test", author: "tester", source: "api", expected }) as const;

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await check()) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`not within ${timeoutMs} ms`);
}

describe("rules store and runtime", () => {
  it("makes a new version active in two app instances within one second of publishing", async () => {
    const prefix = freshPrefix();
    const redis = await client();
    const store = createRulesStore(redis, makeKeys(prefix));
    const first = await store.publish(publishArgs((await shippedRules()).files, 0));
    expect(first.ok && first.value.published && first.value.version).toBe(1);
    const [a, b] = await Promise.all([instance(prefix), instance(prefix)]);
    expect((await a.runtime.active())?.version).toBe(1);
    expect((await b.runtime.active())?.version).toBe(1);

    const second = await store.publish(publishArgs((await rulesWithBigTeamsTo("fast-track")).files, 1));
    expect(second.ok && second.value.published && second.value.version).toBe(2);
    const ms = await waitFor(
      async () => (await a.runtime.active())?.version === 2 && (await b.runtime.active())?.version === 2,
      1000,
    );
    expect(ms).toBeLessThan(1000);
  });

  it("picks up a new version by polling when the pub/sub message is lost", async () => {
    const prefix = freshPrefix();
    const redis = await client();
    const store = createRulesStore(redis, makeKeys(prefix));
    await store.publish(publishArgs((await shippedRules()).files, 0));
    const a = await instance(prefix);
    expect((await a.runtime.active())?.version).toBe(1);
    // Flip the active key by hand: no message is published, only the timer can notice.
    await store.publish(publishArgs((await rulesWithBigTeamsTo("fast-track")).files, 1));
    await redis.set(makeKeys(prefix).rules.active, "1");
    await waitFor(async () => (await a.runtime.active())?.version === 1, 1000);
    await redis.set(makeKeys(prefix).rules.active, "2");
    await waitFor(async () => (await a.runtime.active())?.version === 2, 1000);
  });

  it("refuses a publish whose expected version is stale and leaves the active version alone", async () => {
    const redis = await client();
    const store = createRulesStore(redis, makeKeys(freshPrefix()));
    const files = (await shippedRules()).files;
    await store.publish(publishArgs(files, 0));
    const stale = await store.publish(publishArgs((await rulesWithBigTeamsTo("fast-track")).files, 0));
    expect(stale).toEqual({ ok: false, error: { kind: "stale", active: 1 } });
    expect(await store.activeVersion()).toBe(1);
  });

  it("lets exactly one of two concurrent publishes with the same expected version win", async () => {
    const redis = await client();
    const store = createRulesStore(redis, makeKeys(freshPrefix()));
    await store.publish(publishArgs((await shippedRules()).files, 0));
    const [x, y] = await Promise.all([
      store.publish(publishArgs((await rulesWithBigTeamsTo("fast-track")).files, 1)),
      store.publish(publishArgs((await rulesWithBigTeamsTo("guided-start")).files, 1)),
    ]);
    expect([x.ok, y.ok].sort()).toEqual([false, true]);
    expect(await store.activeVersion()).toBe(2);
  });

  it("keeps a flow's number when its content is unchanged and gives a changed flow the next number", async () => {
    const prefix = freshPrefix();
    const redis = await client();
    const k = makeKeys(prefix);
    const store = createRulesStore(redis, k);
    const base = (await shippedRules()).files;
    await store.publish(publishArgs(base, 0));
    const changed = structuredClone(base) as Record<string, { name?: string }>;
    changed["flows/fast-track.json"]!.name = "Fast track (renamed)";
    const out = await store.publish(publishArgs(changed, 1));
    expect(out.ok && out.value.published && out.value.flowVersions).toMatchObject({
      "fast-track": 2,
      "high-touch": 1,
    });
    const back = await store.publish(publishArgs(base, 2));
    expect(back.ok && back.value.published && back.value.flowVersions).toMatchObject({
      "fast-track": 1,
      "high-touch": 1,
    });

    const runtime = createRedisRulesRuntime(redis, k);
    expect((await runtime.flow("fast-track", 2))?.name).toBe("Fast track (renamed)");
    expect((await runtime.flow("fast-track", 1))?.name).not.toBe("Fast track (renamed)");
    expect(await runtime.flow("fast-track", 9)).toBeUndefined();
  });

  it("lets the edge runtime see a new version on its very next call", async () => {
    const prefix = freshPrefix();
    const redis = await client();
    const k = makeKeys(prefix);
    const store = createRulesStore(redis, k);
    const edge = createRedisRulesRuntime(redis, k);
    expect(await edge.active()).toBeUndefined();
    await store.publish(publishArgs((await shippedRules()).files, 0));
    const v1 = await edge.active();
    expect(v1?.version).toBe(1);
    expect(await edge.active()).toBe(v1);
    await store.publish(publishArgs((await rulesWithBigTeamsTo("fast-track")).files, 1));
    expect((await edge.active())?.version).toBe(2);
    expect((await loadActiveRules(redis, k, 2))?.ruleset.flows.has("fast-track")).toBe(true);
  });
});

describe("publishing RULES_DIR at start-up", () => {
  function copyRules(): string {
    const dir = mkdtempSync(join(tmpdir(), "rules-"));
    cpSync("rules", dir, { recursive: true });
    return dir;
  }

  it("publishes the directory when Redis has no version, even with autopublish off", async () => {
    const redis = await client();
    const keys = makeKeys(freshPrefix());
    const out = await publishRulesDirAtStart({ redis, keys, rulesDir: copyRules(), autopublish: false });
    expect(out).toEqual({ ok: true, value: { version: 1, published: true } });
  });

  it("does not publish again on a restart with the same directory, and does not undo an API publish", async () => {
    const redis = await client();
    const keys = makeKeys(freshPrefix());
    const dir = copyRules();
    await publishRulesDirAtStart({ redis, keys, rulesDir: dir, autopublish: true });
    const again = await publishRulesDirAtStart({ redis, keys, rulesDir: dir, autopublish: true });
    expect(again).toEqual({ ok: true, value: { version: 1, published: false } });
    const store = createRulesStore(redis, keys);
    await store.publish(publishArgs((await rulesWithBigTeamsTo("fast-track")).files, 1));
    const restart = await publishRulesDirAtStart({ redis, keys, rulesDir: dir, autopublish: true });
    expect(restart).toEqual({ ok: true, value: { version: 2, published: false } });
    expect((await store.version(2))?.source).toBe("api");
  });

  it("publishes a changed directory at start when autopublish is on, and not when it is off", async () => {
    const redis = await client();
    const keys = makeKeys(freshPrefix());
    const dir = copyRules();
    await publishRulesDirAtStart({ redis, keys, rulesDir: dir, autopublish: true });
    const settings = JSON.parse(
      await import("node:fs").then((fs) => fs.readFileSync(join(dir, "settings.json"), "utf8")),
    );
    settings.regulatedIndustries.push("defense");
    writeFileSync(join(dir, "settings.json"), JSON.stringify(settings));
    expect(await publishRulesDirAtStart({ redis, keys, rulesDir: dir, autopublish: false })).toEqual({
      ok: true,
      value: { version: 1, published: false },
    });
    expect(await publishRulesDirAtStart({ redis, keys, rulesDir: dir, autopublish: true })).toEqual({
      ok: true,
      value: { version: 2, published: true },
    });
  });

  it("publishes once when several processes start at the same time", async () => {
    const redis = await client();
    const keys = makeKeys(freshPrefix());
    const dir = copyRules();
    const outs = await Promise.all(
      [1, 2, 3].map(() => publishRulesDirAtStart({ redis, keys, rulesDir: dir, autopublish: true })),
    );
    expect(outs.filter((o) => o.ok && o.value.published)).toHaveLength(1);
    expect(await createRulesStore(redis, keys).activeVersion()).toBe(1);
  });

  it("refuses an invalid directory with every problem and publishes nothing", async () => {
    const redis = await client();
    const keys = makeKeys(freshPrefix());
    const dir = copyRules();
    mkdirSync(join(dir, "routing"), { recursive: true });
    writeFileSync(
      join(dir, "routing", "99-bad.json"),
      JSON.stringify({
        rules: [
          {
            name: "bad",
            priority: 5,
            conditions: { all: [{ fact: "survey", path: "$.nope", operator: "equal", value: 1 }] },
            event: { type: "route", params: { flow: "no-such-flow" } },
          },
        ],
      }),
    );
    writeFileSync(join(dir, "flows", "broken.json"), "{ not json");
    const out = await publishRulesDirAtStart({ redis, keys, rulesDir: dir, autopublish: true });
    expect(out.ok).toBe(false);
    expect(await createRulesStore(redis, keys).activeVersion()).toBeUndefined();
  });
});
