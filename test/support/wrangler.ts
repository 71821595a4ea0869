import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "./redis-server.js";

export interface WranglerDev {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** What wrangler printed so far (for failure messages). */
  output(): string;
  /** Stops the whole process group (wrangler, esbuild, workerd) and removes its temp dir. */
  stop(): Promise<void>;
}

export interface WranglerDevOptions {
  /** Bindings (vars and secrets alike) passed with `--var`. */
  readonly vars: Readonly<Record<string, string>>;
  /**
   * A bundle from `buildWorker`, served with `--no-bundle`: the tests then run exactly what
   * `wrangler deploy` uploads, and edits elsewhere in the checkout do not reload it mid-test.
   */
  readonly bundle?: WorkerBundle;
  readonly timeoutMs?: number;
}

const WRANGLER = resolve("node_modules/wrangler/bin/wrangler.js");

/** An environment that keeps wrangler offline: no metrics, no account, no update check. */
function offlineEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("CLOUDFLARE_")) env[k] = v;
  return {
    ...env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    WRANGLER_LOG_PATH: join(home, "logs"),
    CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_HIDE_BANNER: "true",
    CI: "1",
  };
}

export interface WorkerBundle {
  /** The bundled module (what `wrangler deploy` would upload). */
  readonly script: string;
  readonly dir: string;
}

/** Bundles `src/worker.ts` with `wrangler deploy --dry-run --outdir` (offline, nothing uploaded). */
export async function buildWorker(outdir: string): Promise<WorkerBundle> {
  const home = mkdtempSync(join(tmpdir(), "or-wrangler-build-"));
  try {
    const child = spawn(process.execPath, [WRANGLER, "deploy", "--dry-run", "--outdir", outdir], {
      cwd: resolve("."),
      env: offlineEnv(home),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise<number | null>((done) => child.once("exit", (c) => done(c)));
    if (code !== 0) throw new Error(`wrangler deploy --dry-run failed (${code}):\n${out.slice(-4000)}`);
    // The same wrangler.toml with `main` pointing at the bundle, so `wrangler dev --no-bundle`
    // watches only this folder: edits elsewhere in the checkout cannot restart the worker mid-test.
    const toml = readFileSync(resolve("wrangler.toml"), "utf8").replace(
      /^main\s*=.*$/m,
      'main = "worker.js"',
    );
    writeFileSync(join(outdir, "wrangler.toml"), toml);
    return { script: join(outdir, "worker.js"), dir: outdir };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** Starts `wrangler dev --local` on a free port and waits until the worker answers `/healthz`; `stop()` kills its process group. */
export async function startWranglerDev(opts: WranglerDevOptions): Promise<WranglerDev> {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const home = mkdtempSync(join(tmpdir(), "or-wrangler-"));
  const args = [
    WRANGLER,
    "dev",
    ...(opts.bundle ? ["--no-bundle", "--config", join(opts.bundle.dir, "wrangler.toml")] : []),
    "--local",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    join(home, "state"),
    "--show-interactive-dev-session=false",
    "--log-level",
    process.env.WRANGLER_TEST_LOG_LEVEL ?? "log",
    ...Object.entries(opts.vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
  ];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: opts.bundle ? opts.bundle.dir : resolve("."),
    env: offlineEnv(home),
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((done) => child.once("exit", () => done()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
      const timer = setTimeout(() => {
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {}
      }, 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(home, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const res = await fetch(`${url}/healthz`).catch(() => undefined);
    if (res) {
      await res.body?.cancel();
      return { url, output: () => out, stop };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`wrangler dev did not answer on ${url}:\n${out.slice(-4000)}`);
}
