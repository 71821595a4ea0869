import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { runToExit, type Spawned, scratchCheckout, spawnEntry, waitReady } from "./contract-ops-support.js";

const NAMES = [
  "ROUTER_API_TOKEN",
  "ROUTER_ADMIN_TOKEN",
  "HANDOVER_WEBHOOK_SECRET",
  "OUTBOUND_WEBHOOK_SECRET",
];
const dirs: string[] = [];
const procs: Spawned[] = [];

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function env(): Record<string, string> {
  return {
    NODE_ENV: "development",
    REDIS_URL: inject("redisUrl"),
    REDIS_KEY_PREFIX: `sec-${crypto.randomUUID().slice(0, 8)}:`,
    QUEUE_PREFIX: `{sec-${crypto.randomUUID().slice(0, 8)}}`,
    LOG_LEVEL: "info",
  };
}

describe("generated secrets", () => {
  it("generates one set for processes started together, keeps it in .data/secrets.json (0600), prints it once to stderr and never logs it", async () => {
    const cwd = scratchCheckout();
    dirs.push(cwd);
    const e = env();
    const [a, b] = await Promise.all([
      spawnEntry(e, { cwd, args: ["--role=api"] }),
      spawnEntry(e, { cwd, args: ["--role=api"] }),
    ]);
    procs.push(a, b);
    await Promise.all([waitReady(a), waitReady(b)]);

    const file = join(cwd, ".data/secrets.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
    expect(Object.keys(stored).sort()).toEqual([...NAMES].sort());

    // Exactly one of the two printed the secrets, each value once, outside the JSON log.
    const printed = [a, b].filter((p) => p.stderr().includes("Generated development secrets"));
    expect(printed).toHaveLength(1);
    for (const name of NAMES) {
      const value = stored[name] as string;
      expect(printed[0]?.stderr().split(value)).toHaveLength(2);
      for (const p of [a, b]) expect(p.stdout()).not.toContain(value);
    }

    // Both accept the stored admin token: they share one set.
    for (const p of [a, b]) {
      const res = await fetch(`${p.url}/v1/admin/rules`, {
        headers: { authorization: `Bearer ${stored.ROUTER_ADMIN_TOKEN}` },
      });
      expect(res.status).toBe(200);
    }

    // A later start (another role) reuses them and prints nothing.
    const w = await spawnEntry(e, { cwd, args: ["--role=worker"] });
    procs.push(w);
    await waitReady(w, true);
    expect(w.stderr()).not.toContain("Generated development secrets");
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(stored);
  }, 60_000);

  it("treats an unset token in production as bad configuration and writes no .data", async () => {
    const cwd = scratchCheckout();
    dirs.push(cwd);
    const run = await runToExit({ ...env(), NODE_ENV: "production" }, { cwd });
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^configuration error: ROUTER_API_TOKEN /);
    expect(existsSync(join(cwd, ".data"))).toBe(false);
  });

  it("writes no .data when another variable is bad, before generating anything", async () => {
    const cwd = scratchCheckout();
    dirs.push(cwd);
    const run = await runToExit({ ...env(), PORT: "http" }, { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^configuration error: PORT /)]);
    expect(existsSync(join(cwd, ".data"))).toBe(false);
  });
});
