import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../support/redis-server.js";
import { FIXED_SECRETS, ROOT, runToExit, spawnEntry } from "./contract-ops-support.js";

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

  it("refuses an unknown --role with one line", async () => {
    const p = await spawnEntry(base(), { args: ["--role=both"] });
    const { code } = await p.exited;
    expect(code).toBe(1);
    expect(p.stderr().trim().split("\n")).toHaveLength(1);
  });
});
