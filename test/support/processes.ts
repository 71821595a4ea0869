import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { TEST_TOKENS, TEST_WEBHOOK_SECRET } from "./app.js";
import { freePort } from "./redis-server.js";

const ROOT = resolve(import.meta.dirname, "../..");

/** One `src/node.ts` process started by a test. */
export interface NodeProcess {
  readonly role: "api" | "worker" | "all";
  /** HTTP port (also given to workers, which do not listen). */
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly pid: number;
  /** Everything written to stderr so far (a crash, start-up errors). */
  stderr(): string;
  /** Everything written to stdout so far (the JSON log). */
  stdout(): string;
  alive(): boolean;
  /** Resolves with the exit code/signal once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (SIGKILL by default) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** The environment every test process gets: fixed tokens and secrets, so no `.data/secrets.json` is written. */
export function processEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    RULES_DIR: resolve(ROOT, "rules"),
    ROUTER_API_TOKEN: TEST_TOKENS.api,
    ROUTER_ADMIN_TOKEN: TEST_TOKENS.admin,
    ROUTER_PUBLIC_KEY: TEST_TOKENS.public,
    HANDOVER_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    OUTBOUND_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    RULES_AUTOPUBLISH: "false",
    LOG_LEVEL: "warn",
    ...extra,
  };
}

/**
 * Spawns `node --import tsx src/node.ts --role=<role>` (one OS process, so SIGKILL really
 * kills the service, which `npx`/the tsx launcher would not) with `processEnv(env)` and a
 * free `PORT`. The api/all roles resolve once `GET /readyz` answers 200; workers once started.
 */
export async function startNodeProcess(
  role: "api" | "worker" | "all",
  env: Readonly<Record<string, string>>,
  opts: { readyTimeoutMs?: number } = {},
): Promise<NodeProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/node.ts", `--role=${role}`], {
    cwd: ROOT,
    // Workers are seen ready by their "worker started" info line.
    env: processEnv({ PORT: String(port), ...(role === "worker" ? { LOG_LEVEL: "info" } : {}), ...env }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  let out = "";
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once("exit", (code, signal) => done({ code, signal })),
  );
  const alive = () => child.exitCode === null && child.signalCode === null;
  const proc: NodeProcess = {
    role,
    port,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    stderr: () => err,
    stdout: () => out,
    alive,
    exited,
    kill: async (signal: NodeJS.Signals = "SIGKILL") => {
      if (!alive()) return;
      child.kill(signal);
      await exited;
    },
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (!alive()) throw new Error(`${role} process exited at start:\n${err}${out}`.slice(0, 4000));
    if (role === "worker") {
      // The worker logs once it runs (pino JSON on stdout): "onboarding-router worker started".
      if (out.includes("worker started") || err.includes("worker started")) return proc;
    } else {
      const ready = await fetch(`${proc.url}/readyz`, { signal: AbortSignal.timeout(1000) })
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ready) return proc;
    }
    if (Date.now() > deadline) {
      await proc.kill();
      throw new Error(
        `${role} process not ready after ${opts.readyTimeoutMs ?? 30_000} ms:\n${err}${out}`.slice(0, 4000),
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
