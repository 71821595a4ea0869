/**
 * `npm run bench`: every performance figure of the service in one run, on a private
 * redis-server (never 6379). Speed figures are printed next to a reference measured in the
 * same run (the bare Hono + SET ceiling; json-rules-engine for decisions).
 * Env: BENCH_DURATION (seconds per HTTP run, default 10), BENCH_ONLY (comma list of sections:
 * http, decision, flow, edge, analytics, console, cluster).
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { loadRulesetDocument } from "../../src/adapters/rules/load.js";
import { readRulesDir } from "../../src/adapters/rules-dir.js";
import { validateRuleset } from "../../src/core/ruleset/validate.js";
import { startRedis } from "../support/redis-server.js";
import { benchDecisions } from "./decision.js";
import { benchHttp } from "./http.js";

type Figures = Record<string, number | string>;

const ROOT = resolve(import.meta.dirname, "../..");
const only = new Set(
  (process.env.BENCH_ONLY ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);
const wanted = (section: string) => only.size === 0 || only.has(section);
const started = performance.now();

function heading(title: string): void {
  console.log(`\n== ${title} ${"=".repeat(Math.max(0, 70 - title.length))}`);
}

function printFigures(figures: Figures): void {
  const width = Math.max(...Object.keys(figures).map((k) => k.length), 10) + 2;
  for (const [key, value] of Object.entries(figures)) console.log(`  ${key.padEnd(width)}${value}`);
}

/** Rejects after `ms` so one stuck section cannot hold the run. */
function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took over ${ms / 1000} s`)), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

function printHttp(h: Record<string, number>): void {
  const cols = (cells: readonly (string | number)[]) =>
    console.log(
      `  ${String(cells[0]).padEnd(28)}${cells
        .slice(1)
        .map((c) => String(c).padStart(13))
        .join("")}`,
    );
  cols(["server", "req/s", "p50 ms", "p99 ms", "× ceiling", "p99 ×", "cpu µs/req", "redis µs/req"]);
  cols([
    "ceiling (Hono + 1 SET)",
    h.http_ceiling_rps!,
    h.http_ceiling_p50_ms!,
    h.http_ceiling_p99_ms!,
    1,
    1,
    h.http_ceiling_cpu_us!,
    h.http_ceiling_redis_cpu_us!,
  ]);
  for (const mode of ["first", "repeat"] as const) {
    cols([
      `/v1/route ${mode === "first" ? "first decisions" : "repeats"}`,
      h[`http_route_${mode}_rps`]!,
      h[`http_route_${mode}_p50_ms`]!,
      h[`http_route_${mode}_p99_ms`]!,
      h[`http_route_${mode}_rps_ratio`]!,
      h[`http_route_${mode}_p99_ratio`]!,
      h[`http_route_${mode}_cpu_us`]!,
      h[`http_route_${mode}_redis_cpu_us`]!,
    ]);
  }
  const errors = h.http_ceiling_errors! + h.http_route_first_errors! + h.http_route_repeat_errors!;
  console.log(
    `  goals: throughput ≥ 0.70 × ceiling, p99 ≤ 1.5 × ceiling's p99. errors/non-2xx: ${errors}; repeats over ${h.http_route_repeat_subjects} subjects; cpu = server process / redis-server CPU per answered request`,
  );
}

function printDecisions(d: Record<string, number>): void {
  console.log(
    `  ${"ruleset".padEnd(10)}${"compiled p50".padStart(14)}${"p99".padStart(10)}${"reference p50".padStart(16)}${"p99".padStart(10)}${"speed-up".padStart(10)}  (µs)`,
  );
  for (const set of ["50", "200", "shipped"]) {
    const cp50 = d[`decision_compiled_${set}_p50_us`];
    if (cp50 === undefined) continue;
    const rp50 = d[`decision_reference_${set}_p50_us`]!;
    console.log(
      `  ${set.padEnd(10)}${String(cp50).padStart(14)}${String(d[`decision_compiled_${set}_p99_us`]).padStart(10)}${String(rp50).padStart(16)}${String(d[`decision_reference_${set}_p99_us`]).padStart(10)}${`${Math.round(rp50 / Math.max(cp50, 0.01))}×`.padStart(10)}`,
    );
  }
  console.log("  goals: 50 rules p50 ≤ 20 µs, 200 rules p50 ≤ 80 µs (compiled)");
}

/** Runs an optional bench module's export when the file exists; its failure is printed, not fatal. */
async function optional(
  file: string,
  exportName: string,
  call: (fn: (...args: unknown[]) => Promise<Figures>) => Promise<Figures>,
): Promise<void> {
  heading(`${exportName} (test/bench/${file})`);
  let fn: ((...args: unknown[]) => Promise<Figures>) | undefined;
  try {
    const mod = (await import(pathToFileURL(resolve(import.meta.dirname, file)).href)) as Record<
      string,
      unknown
    >;
    if (typeof mod[exportName] === "function") fn = mod[exportName] as typeof fn;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND";
    console.log(missing ? "  (not present: skipped)" : `  (could not load: ${String(error)})`);
    return;
  }
  if (!fn) {
    console.log(`  (no ${exportName} export: skipped)`);
    return;
  }
  try {
    printFigures(await within(120_000, exportName, call(fn)));
  } catch (error) {
    console.log(`  failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const redis = await startRedis();
let failed = false;
try {
  console.log(
    `onboarding-router bench — node ${process.version}, redis-server on ${redis.url} (private), ${new Date().toISOString()}`,
  );
  if (wanted("http")) {
    heading("POST /v1/route vs ceiling (autocannon, 32 connections)");
    const duration = Number(process.env.BENCH_DURATION ?? 10);
    try {
      printHttp(await within(180_000, "http bench", benchHttp(redis.url, { duration })));
    } catch (error) {
      failed = true;
      console.log(`  failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (wanted("decision")) {
    heading("Decision time: compiled vs json-rules-engine");
    const doc = await readRulesDir(resolve(ROOT, "rules"));
    const loaded = doc.ok ? await loadRulesetDocument(doc.value) : undefined;
    if (!loaded?.ok) console.log("  (rules/ did not load: shipped set skipped)");
    printDecisions(
      await within(120_000, "decision bench", benchDecisions(loaded?.ok ? loaded.value.routing : undefined)),
    );
    if (doc.ok) {
      // The admin API validates on the event loop: how long one validate of a big ruleset holds it.
      const many = Array.from({ length: 2_000 }, (_, i) => ({
        name: `bench-${i}`,
        priority: 1 + (i % 30),
        conditions: {
          all: [
            { fact: "survey", path: "$.teamSize", operator: "equal", value: 100_000 - i },
            { fact: "survey", path: "$.supportStyle", operator: "equal", value: "guided" },
          ],
        },
        event: { type: "route", params: { flow: "fast-track" } },
      }));
      const started = performance.now();
      const { problems } = validateRuleset({
        files: { ...doc.value.files, "routing/90-bench.json": { rules: many } },
      });
      console.log(
        `  validate the shipped rules + 2,000 more: ${Math.round(performance.now() - started)} ms (${problems.length} problems; it runs on the event loop)`,
      );
    }
  }
  if (wanted("flow")) await optional("flow.ts", "benchFlow", (fn) => fn(redis.url));
  if (wanted("edge")) await optional("edge.ts", "benchEdge", (fn) => fn());
  if (wanted("analytics")) await optional("analytics.ts", "benchAnalytics", (fn) => fn(redis.url));
  if (wanted("console")) await optional("console.ts", "benchConsole", (fn) => fn(redis.url));
  if (wanted("cluster")) await optional("cluster.ts", "benchCluster", (fn) => fn(redis.url));
} finally {
  await redis.destroy();
}
console.log(`\nbench finished in ${Math.round((performance.now() - started) / 1000)} s`);
process.exit(failed ? 1 : 0);
