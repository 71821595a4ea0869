import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { GENERATED_SECRETS } from "../config.js";

type Generated = Partial<Record<(typeof GENERATED_SECRETS)[number], string>>;

function randomToken(prefix: string): string {
  const b = new Uint8Array(24);
  crypto.getRandomValues(b);
  return prefix + Buffer.from(b).toString("base64url");
}

function readStored(file: string): Generated {
  if (!existsSync(file)) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return {};
    const out: Generated = {};
    for (const name of GENERATED_SECRETS) {
      const v = (parsed as Record<string, unknown>)[name];
      if (typeof v === "string" && v.length > 0) out[name] = v;
    }
    return out;
  } catch {
    return {};
  }
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Runs `fn` holding `<file>.lock` (exclusive create), so processes started together
 * (`start:api` and `start:worker` at once) generate one set of secrets, not one each.
 * A lock older than 10 s is left over from a crash and is taken over.
 */
function withLock<T>(file: string, fn: () => T): T {
  const lock = `${file}.lock`;
  const deadline = Date.now() + 10_000;
  let fd: number | undefined;
  while (fd === undefined) {
    try {
      fd = openSync(lock, "wx", 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 10_000 || Date.now() > deadline) unlinkSync(lock);
      } catch {
        // removed by its holder meanwhile
      }
      sleepSync(25);
    }
  }
  try {
    return fn();
  } finally {
    closeSync(fd);
    try {
      unlinkSync(lock);
    } catch {
      // already gone
    }
  }
}

/**
 * Development only: the tokens and secrets left unset are generated once, kept in
 * `.data/secrets.json` (0600) so later starts and other local processes share them, and
 * printed once to stderr (never into the JSON log). Concurrent first starts agree on one set.
 */
export function loadOrCreateSecrets(
  dataDir: string,
  env: Readonly<Record<string, string | undefined>>,
): Generated {
  const file = join(dataDir, "secrets.json");
  const missing = (stored: Generated) => GENERATED_SECRETS.filter((n) => !env[n]?.trim() && !stored[n]);
  const first = readStored(file);
  if (missing(first).length === 0) {
    if (existsSync(file)) {
      try {
        chmodSync(file, 0o600);
      } catch {
        // not ours to fix (read-only checkout); the values are still usable
      }
    }
    return first;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const { stored, created } = withLock(file, () => {
    // Re-read under the lock: another process may have just written them.
    const current = readStored(file);
    const names = missing(current);
    for (const name of names) {
      current[name] = name.endsWith("_SECRET")
        ? `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}`
        : randomToken(name === "ROUTER_ADMIN_TOKEN" ? "adm_" : "api_");
    }
    if (names.length > 0) {
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(current, null, 2), { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, file);
    }
    return { stored: current, created: names };
  });
  if (created.length > 0) {
    process.stderr.write(
      `\nGenerated development secrets (kept in ${file}, shown once):\n${created.map((n) => `  ${n}=${stored[n]}`).join("\n")}\n\n`,
    );
  }
  return stored;
}
