import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GENERATED_SECRETS } from "../config.js";

type Generated = Partial<Record<(typeof GENERATED_SECRETS)[number], string>>;

function randomToken(prefix: string): string {
  const b = new Uint8Array(24);
  crypto.getRandomValues(b);
  return prefix + Buffer.from(b).toString("base64url");
}

/**
 * Development only: the tokens and secrets left unset are generated once, kept in
 * `.data/secrets.json` (0600) so later starts and other local processes share them, and
 * printed once to stderr (never into the JSON log).
 */
export function loadOrCreateSecrets(
  dataDir: string,
  env: Readonly<Record<string, string | undefined>>,
): Generated {
  const file = join(dataDir, "secrets.json");
  let stored: Generated = {};
  if (existsSync(file)) {
    try {
      stored = JSON.parse(readFileSync(file, "utf8")) as Generated;
    } catch {
      stored = {};
    }
  }
  const created: string[] = [];
  for (const name of GENERATED_SECRETS) {
    if (env[name] || stored[name]) continue;
    stored[name] = name.endsWith("_SECRET")
      ? `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}`
      : randomToken(name === "ROUTER_ADMIN_TOKEN" ? "adm_" : "api_");
    created.push(name);
  }
  if (created.length > 0) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
    chmodSync(file, 0o600);
    process.stderr.write(
      `\nGenerated development secrets (kept in ${file}, shown once):\n${created.map((n) => `  ${n}=${stored[n as keyof Generated]}`).join("\n")}\n\n`,
    );
  }
  return stored;
}
