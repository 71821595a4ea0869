import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./contract-ops-support.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function copy(): string {
  const dir = mkdtempSync(join(tmpdir(), "or-check-"));
  dirs.push(dir);
  cpSync(join(ROOT, "rules"), dir, { recursive: true });
  return dir;
}

function rulesCheck(dir?: string) {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", "scripts/rules-check.ts", ...(dir ? [dir] : [])],
    {
      cwd: ROOT,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
    },
  );
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("npm run rules:check", () => {
  it("passes on the shipped rules, running every tests/*.json case", () => {
    const r = rulesCheck();
    expect(r.code).toBe(0);
    expect(r.out).toContain("tests/survey-only.json");
    expect(r.out).toContain("tests/handover.json");
  });

  it("fails when a tests/*.json case expects another flow", () => {
    const dir = copy();
    const file = join(dir, "tests/survey-only.json");
    const doc = JSON.parse(readFileSync(file, "utf8")) as { cases: { expect: { flow: string } }[] };
    const first = doc.cases[0];
    if (!first) throw new Error("no case");
    first.expect.flow = first.expect.flow === "fast-track" ? "high-touch" : "fast-track";
    writeFileSync(file, JSON.stringify(doc));
    expect(rulesCheck(dir).code).toBe(1);
  });

  it("ignores schema/ (not part of the ruleset) and $schema keys", () => {
    const dir = copy();
    writeFileSync(join(dir, "schema/broken.json"), "{ not json");
    const settings = JSON.parse(readFileSync(join(dir, "settings.json"), "utf8")) as Record<string, unknown>;
    settings.$schema = "https://example.invalid/whatever.json";
    writeFileSync(join(dir, "settings.json"), JSON.stringify(settings));
    expect(rulesCheck(dir).code).toBe(0);
  });

  it("fails on a rule with priority 0 or a non-integer priority, or an id outside the pattern", () => {
    for (const rule of [
      { name: "zero", priority: 0 },
      { name: "half", priority: 1.5 },
      { name: "bad id!", priority: 5 },
    ]) {
      const dir = copy();
      writeFileSync(
        join(dir, "routing/99-extra.json"),
        JSON.stringify({
          rules: [
            {
              ...rule,
              conditions: {
                all: [{ fact: "survey", path: "$.teamSize", operator: "greaterThan", value: 100000 }],
              },
              event: { type: "route", params: { flow: "fast-track" } },
            },
          ],
        }),
      );
      const r = rulesCheck(dir);
      expect([rule.name, r.code]).toEqual([rule.name, 1]);
      expect(r.out).toContain("routing/99-extra.json");
    }
  });
});
