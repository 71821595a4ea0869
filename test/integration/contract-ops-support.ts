import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { TEST_TOKENS, TEST_WEBHOOK_SECRET } from "../support/app.js";
import { freePort } from "../support/redis-server.js";

export const ROOT = resolve(import.meta.dirname, "../..");

/** Fixed tokens and secrets, so a process given these writes nothing to `.data`. */
export const FIXED_SECRETS: Readonly<Record<string, string>> = {
  ROUTER_API_TOKEN: TEST_TOKENS.api,
  ROUTER_ADMIN_TOKEN: TEST_TOKENS.admin,
  HANDOVER_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
  OUTBOUND_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
};

/**
 * A scratch working directory that looks like the checkout (symlinks to `node_modules`,
 * `src`, `rules`, `package.json`), so an entry that writes `.data/` writes it there.
 */
export function scratchCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), "or-ops-"));
  for (const name of ["node_modules", "src", "rules", "package.json", "tsconfig.json"])
    symlinkSync(join(ROOT, name), join(dir, name));
  return dir;
}

export interface Spawned {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  alive(): boolean;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** Sends SIGKILL if still running (cleanup). */
  kill(): Promise<void>;
}

/** Spawns `node --import tsx src/node.ts [args]` with exactly `env` (plus PATH/HOME unless given). */
export async function spawnEntry(
  env: Readonly<Record<string, string>>,
  opts: { cwd?: string; args?: readonly string[] } = {},
): Promise<Spawned> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const started = Date.now();
  const child = spawn(process.execPath, ["--import", "tsx", "src/node.ts", ...(opts.args ?? [])], {
    cwd: opts.cwd ?? ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      HOST: "127.0.0.1",
      PORT: String(port),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((done) =>
    child.once("exit", (code, signal) => done({ code, signal, ms: Date.now() - started })),
  );
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    child,
    stdout: () => out,
    stderr: () => err,
    alive,
    exited,
    kill: async () => {
      if (!alive()) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Waits until `GET /readyz` answers 200 (api/all roles) or the log says the worker started. */
export async function waitReady(p: Spawned, worker = false, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!p.alive()) throw new Error(`process exited at start:\n${p.stderr()}${p.stdout()}`.slice(0, 4000));
    if (worker) {
      if (p.stdout().includes("worker started")) return;
    } else {
      const ready = await fetch(`${p.url}/readyz`, { signal: AbortSignal.timeout(1000) })
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ready) return;
    }
    if (Date.now() > deadline) {
      await p.kill();
      throw new Error(`process not ready:\n${p.stderr()}${p.stdout()}`.slice(0, 4000));
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs the entry to its exit (bad configuration cases). */
export async function runToExit(
  env: Readonly<Record<string, string>>,
  opts: { cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; stderr: string; stdout: string; ms: number }> {
  const p = await spawnEntry(env, opts);
  const timer = setTimeout(() => void p.kill(), opts.timeoutMs ?? 20_000);
  const { code, ms } = await p.exited;
  clearTimeout(timer);
  return { code, stderr: p.stderr(), stdout: p.stdout(), ms };
}
