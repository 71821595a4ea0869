import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, inject, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const TSX = join(ROOT, "node_modules/.bin/tsx");

/** Runs the Node entry with only the given environment (plus PATH/HOME) and collects its exit. */
function runEntry(env: Record<string, string>, timeoutMs = 15_000) {
  return new Promise<{ code: number | null; stderr: string; ms: number }>((done, fail) => {
    const started = Date.now();
    const child = spawn(TSX, ["src/node.ts"], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        ROUTER_API_TOKEN: "proc-api-token-0123456789",
        ROUTER_ADMIN_TOKEN: "proc-admin-token-0123456789",
        HANDOVER_WEBHOOK_SECRET: `whsec_${Buffer.from("x".repeat(32)).toString("base64")}`,
        OUTBOUND_WEBHOOK_SECRET: `whsec_${Buffer.from("y".repeat(32)).toString("base64")}`,
        LOG_LEVEL: "warn",
        ...env,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(new Error(`the entry did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      done({ code, stderr, ms: Date.now() - started });
    });
  });
}

describe("bad configuration", () => {
  const redisUrl = inject("redisUrl");

  it.each([
    ["PORT", { PORT: "abc" }],
    ["PORT", { PORT: "70000" }],
    ["REDIS_URL", { REDIS_URL: "http://x" }],
    ["REDIS_URL", { REDIS_URL: "not a url" }],
    ["RULES_DIR", { RULES_DIR: "/nonexistent" }],
    ["CORS_ORIGINS", { CORS_ORIGINS: "app.example.com/path" }],
    ["RATE_LIMIT_PER_MINUTE", { RATE_LIMIT_PER_MINUTE: "-1" }],
  ] as const)("exits 1 with one line naming %s", async (variable, env) => {
    const run = await runEntry({ REDIS_URL: redisUrl, ...env });
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(variable);
    expect(lines[0]).toMatch(/^configuration error: /);
  });

  it("exits 1 naming RULES_DIR when the folder holds invalid rules", async () => {
    const dir = mkdtempSync(join(tmpdir(), "or-badrules-"));
    try {
      writeFileSync(join(dir, "settings.json"), "{ not json");
      const run = await runEntry({ REDIS_URL: redisUrl, RULES_DIR: dir });
      expect(run.code).toBe(1);
      expect(run.stderr.split("\n")[0]).toContain("RULES_DIR");
      expect(run.stderr).toContain("settings.json");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("exits 1 on a port in use before it publishes rules or starts a worker", async () => {
    const { createServer } = await import("node:net");
    const { Redis } = await import("ioredis");
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "0.0.0.0", () => r()));
    const port = (taken.address() as { port: number }).port;
    const prefix = `clash${Date.now()}:`;
    const redis = new Redis(redisUrl);
    try {
      const run = await runEntry({ REDIS_URL: redisUrl, PORT: String(port), REDIS_KEY_PREFIX: prefix });
      expect(run.code).toBe(1);
      expect(run.stderr.trim()).toBe(`start-up error: PORT ${port} is already in use`);
      expect(await redis.keys(`${prefix}*`)).toEqual([]);
    } finally {
      redis.disconnect();
      await new Promise((r) => taken.close(r));
    }
  });

  it("names HOST, not PORT, when the address cannot be listened on", async () => {
    const { freePort } = await import("../support/redis-server.js");
    const run = await runEntry({ REDIS_URL: redisUrl, PORT: String(await freePort()), HOST: "999.1.1.1" });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(
      /^start-up error: HOST 999\.1\.1\.1 cannot be listened on \(E[A-Z_]+\)$/,
    );
  });

  it("never prints a configured token when it refuses to start", async () => {
    const run = await runEntry({ REDIS_URL: redisUrl, PORT: "abc" });
    expect(run.code).toBe(1);
    expect(run.stderr).not.toContain("proc-api-token");
    expect(run.stderr).not.toContain("proc-admin-token");
  });
});
