/**
 * `npm run rules -- <command>`: the CS-ops client of the admin rules API.
 *
 *   pull [dir]                 write the active ruleset's files into dir (default RULES_DIR or ./rules)
 *   diff [dir]                 what dir changes compared with the active ruleset
 *   validate [dir]             check dir on the server (every problem, with file and path)
 *   simulate --survey F [--handover F] [--role R] [--account ID] [--user ID] [--dir D]
 *                              what /v1/route would answer (with dir: as a candidate ruleset)
 *   backtest [dir] [--limit N] how dir would re-decide recent decisions
 *   push [dir] -m MESSAGE      publish dir (If-Match: the active version)
 *   rollback VERSION           publish a new version equal to VERSION
 *
 * Env: ROUTER_URL (default http://127.0.0.1:8787), ROUTER_ADMIN_TOKEN, ROUTER_ACTOR (audit name).
 * Exit codes: 0 ok, 1 problems (invalid rules, conflict, server error), 2 usage.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { diffRulesets, type RulesetDiff } from "../src/adapters/rules/diff.js";
import { readRulesDir } from "../src/adapters/rules-dir.js";

type Env = Readonly<Record<string, string | undefined>>;
type Out = { log(line: string): void; error(line: string): void };

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly etag: string | null;
}

class CliError extends Error {
  constructor(
    message: string,
    readonly code: 1 | 2 = 1,
  ) {
    super(message);
  }
}

const USAGE = `usage: npm run rules -- <pull|diff|validate|simulate|backtest|push|rollback> [dir] [options]
  pull [dir] · diff [dir] · validate [dir] · backtest [dir] [--limit N] · push [dir] -m MESSAGE · rollback VERSION
  simulate --survey FILE [--handover FILE] [--role ROLE] [--account ID] [--user ID] [--dir DIR]`;

function client(env: Env) {
  const base = (env.ROUTER_URL ?? "http://127.0.0.1:8787").replace(/\/+$/, "");
  const token = env.ROUTER_ADMIN_TOKEN;
  const actor = env.ROUTER_ACTOR ?? safeUser();
  return async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> => {
    if (!token) throw new CliError("ROUTER_ADMIN_TOKEN is not set (the admin bearer token)", 2);
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(actor && /^[\w .@:-]{1,100}$/.test(actor) ? { "x-actor": actor } : {}),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (e) {
      throw new CliError(`cannot reach ${base}: ${(e as Error).message} (set ROUTER_URL)`);
    }
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = { detail: text.slice(0, 200) };
    }
    return { status: res.status, body: parsed, etag: res.headers.get("etag") };
  };
}

function safeUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

/** Turns a problem+json answer into a readable error: detail, then one line per problem. */
function failure(what: string, reply: Reply): CliError {
  const b = reply.body;
  const lines = [`${what}: ${reply.status} ${String(b.code ?? "")} — ${String(b.detail ?? "")}`.trim()];
  const errors = Array.isArray(b.errors)
    ? (b.errors as { file?: string; path?: string; message?: string }[])
    : [];
  for (const e of errors) lines.push(`  ${e.file ? `${e.file} ` : ""}${e.path ?? ""}: ${e.message ?? ""}`);
  return new CliError(lines.join("\n"));
}

async function localRuleset(dir: string): Promise<{ files: Record<string, unknown> }> {
  const doc = await readRulesDir(dir);
  if (!doc.ok) {
    const lines = doc.error.map((p) => `  ${p.file} ${p.path}: ${p.message}`);
    throw new CliError(`cannot read ${dir}:\n${lines.join("\n")}`);
  }
  return { files: { ...doc.value.files } };
}

function printDiff(d: RulesetDiff, out: Out): boolean {
  const rows: [string, string[]][] = [
    ["+ file", d.filesAdded],
    ["- file", d.filesRemoved],
    ["~ file", d.filesChanged],
    ["+ rule", d.rulesAdded],
    ["- rule", d.rulesRemoved],
    ["~ rule", d.rulesChanged],
  ];
  let any = false;
  for (const [label, names] of rows)
    for (const n of names) {
      out.log(`${label} ${n}`);
      any = true;
    }
  return any;
}

function parseCommandLine(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      message: { type: "string", short: "m" },
      survey: { type: "string" },
      handover: { type: "string" },
      role: { type: "string" },
      account: { type: "string" },
      user: { type: "string" },
      dir: { type: "string" },
      limit: { type: "string" },
    },
  });
}

/** Runs one CLI command; returns the exit code (0 ok, 1 problems, 2 usage). */
export async function main(argv: readonly string[], env: Env, out: Out = console): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (e) {
    out.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, arg] = positionals;
  const dir = resolve(arg ?? env.RULES_DIR ?? "./rules");
  const api = client(env);
  try {
    switch (command) {
      case "pull": {
        const r = await api("GET", "/v1/admin/rules");
        if (r.status !== 200) throw failure("pull failed", r);
        const files = (r.body.ruleset as { files: Record<string, unknown> }).files;
        for (const [name, content] of Object.entries(files)) {
          const target = join(dir, name);
          if (!target.startsWith(dir)) throw new CliError(`refusing to write outside ${dir}: ${name}`);
          await mkdir(dirname(target), { recursive: true });
          await writeFile(target, `${JSON.stringify(content, null, 2)}\n`);
        }
        out.log(`pulled version ${String(r.body.version)} (${Object.keys(files).length} files) into ${dir}`);
        return 0;
      }
      case "diff": {
        const local = await localRuleset(dir);
        const r = await api("GET", "/v1/admin/rules");
        if (r.status !== 200) throw failure("diff failed", r);
        const remote = (r.body.ruleset as { files: Record<string, unknown> }).files;
        out.log(`${dir} compared with active version ${String(r.body.version)}:`);
        if (!printDiff(diffRulesets(remote, local.files), out)) out.log("no changes");
        return 0;
      }
      case "validate": {
        const r = await api("POST", "/v1/admin/rules/validate", { ruleset: await localRuleset(dir) });
        if (r.status !== 200) throw failure(`${dir} is invalid`, r);
        const warnings = (r.body.warnings ?? []) as { file: string; path: string; message: string }[];
        out.log(`${dir} is valid${warnings.length ? ` with ${warnings.length} warning(s):` : ""}`);
        for (const w of warnings) out.log(`  warning ${w.file} ${w.path}: ${w.message}`);
        return 0;
      }
      case "simulate": {
        if (!values.survey) throw new CliError(`--survey FILE is required\n${USAGE}`, 2);
        const raw = JSON.parse(await readFile(values.survey, "utf8")) as Record<string, unknown>;
        const body = {
          survey: "answers" in raw ? raw : { answers: raw },
          ...(values.handover
            ? { handover: JSON.parse(await readFile(values.handover, "utf8")) as unknown }
            : {}),
          ...(values.role ? { role: values.role } : {}),
          ...(values.account ? { accountId: values.account } : {}),
          ...(values.user ? { userId: values.user } : {}),
          ...(values.dir ? { ruleset: await localRuleset(resolve(values.dir)) } : {}),
        };
        const r = await api("POST", "/v1/admin/rules/simulate", body);
        if (r.status !== 200) throw failure("simulate failed", r);
        const b = r.body as {
          flow: { id: string; version: number | null };
          rule: string | null;
          ruleset: { version: number | null };
          step: { title: string } | null;
          reasons: {
            rule: string;
            message?: string;
            conditions: {
              fact: string;
              path?: string;
              operator: string;
              value: unknown;
              factValue: unknown;
              result: boolean;
            }[];
          }[];
        };
        out.log(
          `flow ${b.flow.id} (flow version ${b.flow.version ?? "new"}) by rule ${b.rule ?? "(default flow)"} — ruleset ${b.ruleset.version ?? "candidate"}`,
        );
        if (b.step) out.log(`first step: ${b.step.title}`);
        for (const reason of b.reasons) {
          if (reason.message) out.log(`  ${reason.message}`);
          for (const c of reason.conditions)
            out.log(
              `  ${c.result ? "✓" : "✗"} ${c.fact}${c.path ? ` ${c.path}` : ""} ${c.operator} ${JSON.stringify(c.value)} (was ${JSON.stringify(c.factValue)})`,
            );
        }
        return 0;
      }
      case "backtest": {
        const limit = values.limit === undefined ? undefined : Number(values.limit);
        if (limit !== undefined && !(Number.isInteger(limit) && limit > 0))
          throw new CliError("--limit must be a positive integer", 2);
        const r = await api("POST", "/v1/admin/rules/backtest", {
          ruleset: await localRuleset(dir),
          ...(limit ? { limit } : {}),
        });
        if (r.status !== 200) throw failure("backtest failed", r);
        const b = r.body as {
          compared: number;
          changed: number;
          skipped: number;
          matrix: Record<string, number>;
          examples: { decisionId: string; accountId: string; from: string; to: string }[];
        };
        out.log(
          `compared ${b.compared} recent decision(s): ${b.changed} would change${b.skipped ? ` (${b.skipped} expired, skipped)` : ""}`,
        );
        for (const [pair, n] of Object.entries(b.matrix).sort((x, y) => y[1] - x[1]))
          out.log(`  ${pair}: ${n}`);
        for (const e of b.examples) out.log(`  e.g. ${e.accountId} ${e.decisionId}: ${e.from} → ${e.to}`);
        return 0;
      }
      case "push": {
        if (!values.message) throw new CliError("-m MESSAGE is required: say why you publish", 2);
        const ruleset = await localRuleset(dir);
        const active = await api("GET", "/v1/admin/rules");
        const ifMatch = active.status === 200 ? (active.etag ?? `"${String(active.body.version)}"`) : '"0"';
        if (active.status !== 200 && active.status !== 404)
          throw failure("cannot read the active version", active);
        const r = await api(
          "PUT",
          "/v1/admin/rules",
          { ruleset, message: values.message },
          { "if-match": ifMatch },
        );
        if (r.status !== 200) throw failure("push refused", r);
        out.log(`published version ${String(r.body.version)} (was ${ifMatch.replace(/"/g, "")})`);
        return 0;
      }
      case "rollback": {
        const version = Number(arg);
        if (!arg || !Number.isInteger(version) || version < 1)
          throw new CliError(`rollback needs a VERSION number\n${USAGE}`, 2);
        const r = await api("POST", "/v1/admin/rules/rollback", { version });
        if (r.status !== 200) throw failure("rollback refused", r);
        out.log(`published version ${String(r.body.version)} with the content of version ${version}`);
        return 0;
      }
      default:
        out.error(USAGE);
        return 2;
    }
  } catch (e) {
    if (e instanceof CliError) {
      out.error(e.message);
      return e.code;
    }
    throw e;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(`rules: ${(e as Error).message}`);
      process.exitCode = 1;
    },
  );
}
