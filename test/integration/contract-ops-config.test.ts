import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { freePort, startRedis } from "../support/redis-server.js";
import { FIXED_SECRETS, ROOT, runToExit, spawnEntry, waitReady } from "./contract-ops-support.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function rulesCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "or-rules-"));
  dirs.push(dir);
  cpSync(join(ROOT, "rules"), dir, { recursive: true });
  return dir;
}

const base = () => ({ ...FIXED_SECRETS, REDIS_URL: inject("redisUrl"), LOG_LEVEL: "info" });

function expectOneLine(run: { code: number | null; stderr: string }, pattern: RegExp) {
  expect(run.code).toBe(1);
  const lines = run.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^configuration error: /);
  expect(lines[0]).toMatch(pattern);
}

describe("bad configuration stops the start with one line", () => {
  it("names RULES_DIR and the problems, on one line, when the folder holds invalid JSON", async () => {
    const dir = rulesCopy();
    writeFileSync(join(dir, "settings.json"), "{ not json");
    const run = await runToExit({ ...base(), RULES_DIR: dir });
    expectOneLine(run, /RULES_DIR .*settings\.json line 1:3/);
  });

  it("names RULES_DIR on one line when its rules are valid JSON but invalid (several problems)", async () => {
    const dir = rulesCopy();
    writeFileSync(
      join(dir, "routing/zz-bad.json"),
      JSON.stringify({
        rules: [
          {
            name: "to-nowhere",
            priority: 5,
            conditions: { all: [] },
            event: { type: "route", params: { flow: "nope" } },
          },
          {
            name: "bad-priority",
            priority: 0,
            conditions: { all: [] },
            event: { type: "route", params: { flow: "nope2" } },
          },
        ],
      }),
    );
    const run = await runToExit({ ...base(), RULES_DIR: dir });
    expectOneLine(run, /RULES_DIR .*routing\/zz-bad\.json/);
  });

  it("names RULES_DIR when it is a file, not a folder", async () => {
    const run = await runToExit({ ...base(), RULES_DIR: join(ROOT, "package.json") });
    expectOneLine(run, /RULES_DIR .*not a readable folder/);
  });

  it("refuses invalid rules before touching Redis, so it never waits on an unreachable one", async () => {
    const dir = rulesCopy();
    writeFileSync(join(dir, "survey.json"), "[");
    const deadPort = await freePort();
    const run = await runToExit({ ...base(), RULES_DIR: dir, REDIS_URL: `redis://127.0.0.1:${deadPort}` });
    expectOneLine(run, /RULES_DIR .*survey\.json/);
    expect(run.ms).toBeLessThan(8_000);
  });

  it.each([
    ["PUBLIC_BASE_URL", { PUBLIC_BASE_URL: "not a url" }],
    ["WEBHOOK_SUBSCRIBERS", { WEBHOOK_SUBSCRIBERS: "ftp://x.example" }],
    ["DECISION_TTL_DAYS", { DECISION_TTL_DAYS: "a month" }],
    ["LOG_LEVEL", { LOG_LEVEL: "loud" }],
    ["ROUTER_API_TOKEN", { ROUTER_API_TOKEN: "," }],
  ] as const)("exits 1 with one line naming %s", async (variable, env) => {
    const run = await runToExit({ ...base(), ...env });
    expectOneLine(run, new RegExp(`^configuration error: ${variable} `));
  });

  it("names REDIS_URL when it names a database the server does not have (not database 0 instead)", async () => {
    const run = await runToExit({ ...base(), REDIS_URL: `${inject("redisUrl")}/99` });
    expectOneLine(run, /^configuration error: REDIS_URL names database 99/);
  });

  it("refuses an unknown --role with one line", async () => {
    const p = await spawnEntry(base(), { args: ["--role=both"] });
    const { code } = await p.exited;
    expect(code).toBe(1);
    expect(p.stderr().trim().split("\n")).toHaveLength(1);
  });
});

describe("start-up before Redis", () => {
  it("waits for Redis instead of exiting, alive and not ready meanwhile, then serves once it comes up", async () => {
    const redisPort = await freePort();
    const p = await spawnEntry({
      ...FIXED_SECRETS,
      NODE_ENV: "test",
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      LOG_LEVEL: "warn",
    });
    let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
    try {
      const deadline = Date.now() + 20_000;
      let health = 0;
      while (health !== 200 && Date.now() < deadline) {
        health = await fetch(`${p.url}/healthz`).then(
          (r) => r.status,
          () => 0,
        );
        if (!p.alive()) throw new Error(`exited: ${p.stderr()}`);
        if (health !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(health).toBe(200);
      const ready = await fetch(`${p.url}/readyz`);
      expect(ready.status).toBe(503);
      expect((await ready.json()).status).toBe("unavailable");
      const route = await fetch(`${p.url}/v1/route`, {
        method: "POST",
        headers: { "x-request-id": "boot-1" },
      });
      expect(route.status).toBe(503);
      expect(route.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(await route.json()).toMatchObject({ code: "unavailable", requestId: "boot-1" });
      // Still waiting after longer than a Redis connect timeout (10 s), then Redis comes up.
      await new Promise((r) => setTimeout(r, 11_000));
      expect(p.alive()).toBe(true);
      expect(p.stdout()).toContain("still waiting");
      redis = await startRedis([], redisPort);
      await waitReady(p, false, 30_000);
      p.child.kill("SIGTERM");
      expect((await p.exited).code).toBe(0);
    } finally {
      await p.kill();
      await redis?.destroy();
    }
  }, 60_000);
});
