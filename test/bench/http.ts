/**
 * `/v1/route` throughput and latency under load against the ceiling: a bare Hono POST doing one
 * Redis SET on the same Redis. Each server runs in its own child process (tsx) so the load
 * generator (autocannon, in this process) never shares its event loop.
 * Run alone: `npx tsx test/bench/http.ts` (starts a private redis-server).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import autocannon from "autocannon";
import { Redis } from "ioredis";
import { freePort, startRedis } from "../support/redis-server.js";

const HERE = import.meta.dirname;
const ROOT = resolve(HERE, "../..");
export const TOKEN = "bench-api-token-0123456789abcdef";

export interface HttpBenchOptions {
  /** Seconds per measured run (default 10). */
  readonly duration?: number;
  /** Seconds of warm-up before each measured run (default 2). */
  readonly warmup?: number;
  /** Concurrent connections (default 32). */
  readonly connections?: number;
  /** Extra node flags for the route server, e.g. `--cpu-prof` (also env BENCH_ROUTE_NODE_ARGS). */
  readonly routeNodeArgs?: readonly string[];
}

export interface LoadResult {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly requests: number;
  readonly errors: number;
  readonly non2xx: number;
  /** Server CPU time per answered request, in µs (robust to a busy machine, unlike req/s). */
  readonly cpuUs: number;
  /** redis-server CPU time per answered request, in µs (when `redis` is given). */
  readonly redisCpuUs: number;
}

/** redis-server's own CPU time so far (INFO cpu), in seconds. */
async function redisCpuSeconds(redis: Redis | undefined): Promise<number> {
  if (!redis) return Number.NaN;
  const info = await redis.info("cpu");
  const field = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? Number.NaN);
  return field("used_cpu_sys") + field("used_cpu_user");
}

export interface Child {
  readonly port: number;
  /** CPU time (user + system) the child has used so far, in seconds; NaN off Linux. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** The route server's environment: production config with fixed bench tokens and its own key prefix. */
export function routeServerEnv(redisUrl: string, keyPrefix: string): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    KEY_PREFIX: keyPrefix,
    RULES_DIR: resolve(ROOT, "rules"),
    ROUTER_API_TOKEN: TOKEN,
    ROUTER_ADMIN_TOKEN: "bench-admin-token-0123456789abcdef",
    HANDOVER_WEBHOOK_SECRET: `whsec_${Buffer.from("bench-webhook-secret-32-bytes-long").toString("base64")}`,
    OUTBOUND_WEBHOOK_SECRET: `whsec_${Buffer.from("bench-outbound-secret-32-bytes-lng").toString("base64")}`,
    RULES_AUTOPUBLISH: "false",
    LOG_LEVEL: "warn",
  };
}

/** Starts a tsx child that prints `ready <port>`; bounded by a 30 s start-up deadline. */
export async function startChild(
  script: string,
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
): Promise<Child> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, "--import", "tsx", script], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`${script} did not start in 30 s: ${stderr}`)), 30_000);
    child.stdout?.on("data", (d: Buffer) => {
      if (d.toString().includes("ready ")) {
        clearTimeout(timer);
        ready();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`${script} exited with ${code}: ${stderr}`));
    });
  });
  return {
    port,
    cpuSeconds: () => {
      try {
        // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks (100 Hz on Linux).
        const stat = readFileSync(`/proc/${child.pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return (Number(fields[11]) + Number(fields[12])) / 100;
      } catch {
        return Number.NaN;
      }
    },
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        const hard = setTimeout(() => child.kill("SIGKILL"), 10_000);
        child.once("exit", () => {
          clearTimeout(hard);
          done();
        });
        child.kill("SIGTERM");
      }),
  };
}

const ANSWERS = [
  { teamSize: 12, priorExperience: "some", goLiveTimeline: "within_month", supportStyle: "guided" },
  { teamSize: 3, priorExperience: "none", goLiveTimeline: "no_date", supportStyle: "self_serve" },
  {
    teamSize: 250,
    priorExperience: "expert",
    goLiveTimeline: "within_2_weeks",
    supportStyle: "mixed",
    needsSso: true,
    integrations: ["salesforce", "slack"],
  },
  { teamSize: 40, priorExperience: "some", goLiveTimeline: "within_quarter", supportStyle: "guided" },
];

/** The body of subject `n` of a run: its own account and user; answers fixed per subject. */
export function routeBody(run: string, n: number): string {
  return JSON.stringify({
    accountId: `acct-${run}-${n}`,
    userId: `u-${n % 7}`,
    role: "end_user",
    survey: { answers: ANSWERS[n % ANSWERS.length] },
  });
}

/**
 * One autocannon run. `bodyOf(i)` gives the i-th request's body (a shared counter across all
 * connections, so subjects rotate in order).
 */
export async function load(
  server: Child,
  seconds: number,
  connections: number,
  bodyOf: (i: number) => string,
  redis?: Redis,
): Promise<LoadResult> {
  let i = 0;
  const redisBefore = await redisCpuSeconds(redis);
  const cpuBefore = server.cpuSeconds();
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}`,
    connections,
    duration: seconds,
    timeout: 10,
    requests: [
      {
        method: "POST",
        path: "/v1/route",
        headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
        setupRequest: (req: Record<string, unknown>) => ({ ...req, body: bodyOf(i++) }),
      },
    ],
  });
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    cpuUs: Math.round(((server.cpuSeconds() - cpuBefore) / Math.max(1, result.requests.total)) * 1e6),
    redisCpuUs: Math.round(
      (((await redisCpuSeconds(redis)) - redisBefore) / Math.max(1, result.requests.total)) * 1e6,
    ),
  };
}

/** Sends one route request and returns the parsed answer (a correctness check before the load). */
async function routeOnce(port: number, body: string): Promise<{ status: number; reused?: boolean }> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/route`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
    body,
  });
  const json = (await res.json()) as { reused?: boolean };
  return { status: res.status, ...(json.reused !== undefined ? { reused: json.reused } : {}) };
}

/**
 * Ceiling vs `/v1/route` (first-decision heavy: a new account per request; repeat heavy: the
 * same subjects again, unchanged answers). Keys `http_*`; latencies in ms.
 */
export async function benchHttp(
  redisUrl: string,
  opts: HttpBenchOptions = {},
): Promise<Record<string, number>> {
  const duration = opts.duration ?? 10;
  const warmup = opts.warmup ?? 2;
  const connections = opts.connections ?? 32;
  const run = Date.now().toString(36);
  const out: Record<string, number> = {};
  const u = new URL(redisUrl);
  const redis = new Redis({ host: u.hostname, port: Number(u.port), lazyConnect: true } as never);
  await redis.connect();
  try {
    const ceiling = await startChild(resolve(HERE, "ceiling-server.ts"), {
      REDIS_URL: redisUrl,
      KEY_PREFIX: `ceiling-${run}:`,
    });
    try {
      await load(ceiling, warmup, connections, (i) => routeBody(`cw${run}`, i));
      const c = await load(ceiling, duration, connections, (i) => routeBody(`c${run}`, i), redis);
      out.http_ceiling_rps = c.rps;
      out.http_ceiling_p50_ms = c.p50;
      out.http_ceiling_p99_ms = c.p99;
      out.http_ceiling_errors = c.errors + c.non2xx;
      out.http_ceiling_cpu_us = c.cpuUs;
      out.http_ceiling_redis_cpu_us = c.redisCpuUs;
    } finally {
      await ceiling.stop();
    }

    const envArgs = process.env.BENCH_ROUTE_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
    const route = await startChild(
      resolve(HERE, "route-server.ts"),
      routeServerEnv(redisUrl, `bench-${run}:`),
      [...(opts.routeNodeArgs ?? []), ...envArgs],
    );
    try {
      const first = await routeOnce(route.port, routeBody(`check${run}`, 0));
      const again = await routeOnce(route.port, routeBody(`check${run}`, 0));
      if (first.status !== 200 || first.reused !== false || again.reused !== true)
        throw new Error(`route server answered ${JSON.stringify([first, again])}`);
      await load(route, warmup, connections, (i) => routeBody(`rw${run}`, i));
      const f = await load(route, duration, connections, (i) => routeBody(`r${run}`, i), redis);
      out.http_route_first_rps = f.rps;
      out.http_route_first_p50_ms = f.p50;
      out.http_route_first_p99_ms = f.p99;
      out.http_route_first_errors = f.errors + f.non2xx;
      out.http_route_first_cpu_us = f.cpuUs;
      out.http_route_first_redis_cpu_us = f.redisCpuUs;
      // Repeats: the subjects the first-decision run created, again, in order (≥ 10,000 of them when it did that many).
      const subjects = Math.max(1, Math.min(f.requests, 50_000));
      const r = await load(route, duration, connections, (i) => routeBody(`r${run}`, i % subjects), redis);
      out.http_route_repeat_rps = r.rps;
      out.http_route_repeat_p50_ms = r.p50;
      out.http_route_repeat_p99_ms = r.p99;
      out.http_route_repeat_errors = r.errors + r.non2xx;
      out.http_route_repeat_cpu_us = r.cpuUs;
      out.http_route_repeat_redis_cpu_us = r.redisCpuUs;
      out.http_route_repeat_subjects = subjects;
    } finally {
      await route.stop();
    }
  } finally {
    redis.disconnect();
  }
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  out.http_route_first_rps_ratio = ratio(out.http_route_first_rps!, out.http_ceiling_rps!);
  out.http_route_repeat_rps_ratio = ratio(out.http_route_repeat_rps!, out.http_ceiling_rps!);
  out.http_route_first_p99_ratio = ratio(out.http_route_first_p99_ms!, out.http_ceiling_p99_ms!);
  out.http_route_repeat_p99_ratio = ratio(out.http_route_repeat_p99_ms!, out.http_ceiling_p99_ms!);
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const redis = await startRedis();
  try {
    const duration = Number(process.env.BENCH_DURATION ?? 10);
    const results = await benchHttp(redis.url, { duration });
    for (const [key, value] of Object.entries(results)) console.log(`${key.padEnd(32)} ${value}`);
  } finally {
    await redis.destroy();
  }
}
