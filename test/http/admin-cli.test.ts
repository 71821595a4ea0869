import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../scripts/rules-cli.js";
import { createRulesStore } from "../../src/adapters/rules/store.js";
import {
  ADMIN,
  ANSWERS,
  freshPrefix,
  type Instance,
  shippedRules,
  startInstance,
} from "../integration/rules-harness.js";

const run = promisify(execFile);
let app: Instance;
let server: ReturnType<typeof serve>;
let env: Record<string, string>;

beforeAll(async () => {
  app = await startInstance(freshPrefix());
  await createRulesStore(app.redis, app.keys).publish({
    files: (await shippedRules()).files,
    message: "seed",
    author: "test",
    source: "dir",
    expected: 0,
  });
  await app.runtime.refresh();
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch: app.app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) =>
      resolve(info.port),
    );
  });
  env = { ROUTER_URL: `http://127.0.0.1:${port}`, ROUTER_ADMIN_TOKEN: ADMIN, ROUTER_ACTOR: "cli-test" };
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await app.close();
});

/** Runs the CLI in-process and captures what it prints. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, env, { log: (l) => out.push(l), error: (l) => err.push(l) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const BIG_TEAMS = {
  rules: [
    {
      name: "big-teams",
      priority: 1000,
      conditions: {
        all: [{ fact: "survey", path: "$.teamSize", operator: "greaterThanInclusive", value: 500 }],
      },
      event: { type: "route", params: { flow: "fast-track" } },
    },
  ],
};

describe("rules CLI against a running app", () => {
  it("pulls, diffs, validates, backtests, simulates, pushes and rolls back", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-rules-"));
    const pulled = await cli("pull", dir);
    expect(pulled).toMatchObject({ code: 0 });
    expect(pulled.out).toMatch(/pulled version 1 \(\d+ files\)/);
    expect(existsSync(join(dir, "flows", "high-touch.json"))).toBe(true);
    expect((await cli("diff", dir)).out).toContain("no changes");

    writeFileSync(join(dir, "routing", "00-big-teams.json"), JSON.stringify(BIG_TEAMS, null, 2));
    const diff = await cli("diff", dir);
    expect(diff.out).toContain("+ file routing/00-big-teams.json");
    expect(diff.out).toContain("+ rule big-teams");
    // The candidate sends teams of 500 to fast-track: valid, but it breaks a shipped test case,
    // which the validation names as a warning (rules:check fails on it).
    const validated = await cli("validate", dir);
    expect(validated.code).toBe(0);
    expect(validated.out).toContain(`${dir} is valid with 1 warning(s)`);
    expect(validated.out).toContain(
      'tests/survey-only.json $.cases[9].expect: case "a team of five hundred goes high-touch"',
    );
    expect((await cli("backtest", dir)).out).toContain("compared 0 recent decision(s): 0 would change");

    const survey = join(dir, "..", `${Date.now()}-survey.json`);
    writeFileSync(survey, JSON.stringify({ answers: ANSWERS }));
    expect((await cli("simulate", "--survey", survey)).out).toMatch(/^flow high-touch .* ruleset 1/);
    expect((await cli("simulate", "--survey", survey, "--dir", dir)).out).toMatch(
      /^flow fast-track .* by rule big-teams — ruleset candidate/,
    );

    const pushed = await cli("push", dir, "-m", "big teams go fast");
    expect(pushed).toMatchObject({ code: 0, out: "published version 2 (was 1)" });
    await app.runtime.refresh();
    expect((await cli("simulate", "--survey", survey)).out).toMatch(/^flow fast-track .* ruleset 2/);

    const rolled = await cli("rollback", "1");
    expect(rolled).toMatchObject({ code: 0, out: "published version 3 with the content of version 1" });
    const audit = await createRulesStore(app.redis, app.keys).auditLog(3);
    expect(audit[0]).toMatchObject({ action: "rollback", actor: "cli-test (admin:0)", version: 3 });
  });

  it("exits non-zero and lists every problem when the rules are invalid, publishing nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-bad-"));
    cpSync("rules", dir, { recursive: true });
    const bad = { rules: [{ ...BIG_TEAMS.rules[0], event: { type: "route", params: { flow: "nowhere" } } }] };
    writeFileSync(join(dir, "routing", "00-bad.json"), JSON.stringify(bad));
    const before = await createRulesStore(app.redis, app.keys).activeVersion();

    const validated = await cli("validate", dir);
    expect(validated.code).toBe(1);
    expect(validated.err).toContain(
      'routing/00-bad.json $.rules[0].event.params.flow: unknown flow "nowhere"',
    );
    const pushed = await cli("push", dir, "-m", "broken");
    expect(pushed.code).toBe(1);
    expect(pushed.err).toContain("push refused: 422 validation_failed");
    expect(await createRulesStore(app.redis, app.keys).activeVersion()).toBe(before);
    expect((await cli("push", dir)).code).toBe(2);
    expect((await cli("rollback", "999")).code).toBe(1);
    expect((await cli("frobnicate")).code).toBe(2);

    // The same through a real process: the exit code reaches the shell.
    const proc = await run("npx", ["tsx", "scripts/rules-cli.ts", "validate", dir], {
      env: { ...process.env, ...env },
    }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(proc.code).toBe(1);
    expect(proc.stderr).toContain("unknown flow");
    expect(readFileSync(join(dir, "settings.json"), "utf8")).toContain("defaultFlow");
  });
});
