import { z } from "zod";
import { parseWebhookSecrets } from "./core/signing/standard-webhooks.js";

/** Every environment variable the service reads (CONTRACT.md "Environment"), parsed by one schema. */

const list = (sep: RegExp) =>
  z.string().transform((s) =>
    s
      .split(sep)
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
  );
const commaList = list(/,/);
const bool = z
  .string()
  .transform((v) => v.toLowerCase())
  .pipe(z.enum(["true", "false", "1", "0", "yes", "no", "on", "off"], "must be true or false"))
  .transform((v) => v === "true" || v === "1" || v === "yes" || v === "on");
const intIn = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, `must be between ${min} and ${max}`)
        .max(max, `must be between ${min} and ${max}`),
    );
/** An absolute http(s) URL (the service calls it, or CRMs sign it). */
const httpUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
  } catch {
    return false;
  }
}, "must be an http(s) URL");
/**
 * OUTBOUND_ALLOWED_HOSTS entries are compared with a URL's host name, so an entry written as
 * a URL or with a port (`https://hooks.example.com:8443/x`) is reduced to its host name.
 */
const hostList = commaList.transform((hosts, ctx) => {
  const out: string[] = [];
  for (const h of hosts) {
    let host: string;
    try {
      host = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(h) ? h : `http://${h}`).hostname;
    } catch {
      ctx.addIssue({ code: "custom", message: `"${h}" is not a host name` });
      return z.NEVER;
    }
    out.push(host.replace(/^\[|\]$/g, "").toLowerCase());
  }
  return out;
});

/** A browser origin: scheme, host and port, nothing else (no credentials, path, query). */
function isOrigin(s: string): boolean {
  if (!/^https?:\/\/[^/\s]+$/.test(s)) return false;
  try {
    const u = new URL(s);
    return u.hostname !== "" && u.username === "" && u.password === "";
  } catch {
    return false; // a bad host or a port past 65535
  }
}

const redisUrl = z.string().transform((s, ctx) => {
  const parts = s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
  if (parts.length === 0) {
    ctx.addIssue({ code: "custom", message: "is empty" });
    return z.NEVER;
  }
  const urls: string[] = [];
  for (const raw of parts) {
    const normalised = raw.replace(/^redis\+cluster:\/\//, "redis://");
    let u: URL;
    try {
      u = new URL(normalised);
    } catch {
      // Everything up to the last "@" is credentials (a password may hold "@" or "/").
      ctx.addIssue({ code: "custom", message: `"${raw.replace(/\/\/.*@/, "//***@")}" is not a URL` });
      return z.NEVER;
    }
    if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
      ctx.addIssue({ code: "custom", message: "must use redis:// or rediss://" });
      return z.NEVER;
    }
    if (!u.hostname) {
      ctx.addIssue({ code: "custom", message: "has no host" });
      return z.NEVER;
    }
    // ioredis falls back to database 0 when the path is not a number or SELECT fails: a typo would
    // put this deployment's data into another tenant's database.
    if (u.pathname.length > 1 && !/^\/\d{1,5}$/.test(u.pathname)) {
      ctx.addIssue({
        code: "custom",
        message: "names a database that is not a number (redis://host:6379/0)",
      });
      return z.NEVER;
    }
    if (urls.length > 0 && new URL(urls[0]!).protocol !== u.protocol) {
      ctx.addIssue({ code: "custom", message: "mixes redis:// and rediss:// nodes" });
      return z.NEVER;
    }
    urls.push(normalised);
  }
  return { urls, cluster: urls.length > 1 || s.trim().startsWith("redis+cluster://") };
});

/** Standard Webhooks secrets: a space list (the spec's own separator); commas are accepted too. */
const whsecList = list(/[\s,]+/)
  .pipe(z.array(z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/, "must be whsec_<base64>")).min(1))
  // The signer's own check (valid base64, a 24–64 byte key) at start: a secret that passed only the
  // pattern made every signed request a 401 and every outbound call fail, with /readyz green.
  .superRefine((secrets, ctx) => {
    const parsed = parseWebhookSecrets(secrets.join(" "));
    if (!parsed.ok)
      ctx.addIssue({
        code: "custom",
        message: `${parsed.error.message}${secrets.length > 1 ? ` (secret ${parsed.error.index + 1})` : ""}`,
      });
  });

/** Bearer tokens: a comma list (rotation); any length is accepted, short ones are warned about. */
const tokenList = commaList.pipe(z.array(z.string()).min(1, "holds no value"));

const envSchema = z.object({
  NODE_ENV: z.string().optional(),
  PORT: intIn(1, 65535).default(8787),
  REDIS_URL: redisUrl.optional(),
  RULES_DIR: z.string().min(1).default("./rules"),
  ROUTER_API_TOKEN: tokenList.optional(),
  ROUTER_PUBLIC_KEY: tokenList.optional(),
  ROUTER_ADMIN_TOKEN: tokenList.optional(),
  HANDOVER_WEBHOOK_SECRET: whsecList.optional(),
  PUBLIC_BASE_URL: httpUrl.optional(),
  RULES_AUTOPUBLISH: bool.default(true),
  DECISION_TTL_DAYS: intIn(1, 3650).default(30),
  HUBSPOT_CLIENT_SECRET: z.string().min(1).optional(),
  SALESFORCE_ORG_IDS: commaList
    .pipe(z.array(z.string().regex(/^[A-Za-z0-9]{18}$/, "must be 18-character org ids")).min(1))
    .optional(),
  SALESFORCE_TOKEN: z.string().min(1).optional(),
  OUTBOUND_WEBHOOK_SECRET: whsecList.optional(),
  OUTBOUND_ALLOWED_HOSTS: hostList.optional(),
  WEBHOOK_SUBSCRIBERS: commaList.pipe(z.array(httpUrl)).default([]),
  CORS_ORIGINS: commaList
    // A browser's Origin never ends in "/", so "https://app.example.com/" means that origin.
    .transform((origins) => origins.map((o) => o.replace(/\/$/, "")))
    .pipe(z.array(z.string().refine(isOrigin, "must be origins like https://app.example.com")))
    // As browsers send it: lower case, no default port.
    .transform((origins) => origins.map((o) => new URL(o).origin))
    .default([]),
  RATE_LIMIT_PER_MINUTE: intIn(0, 10_000_000).default(0),
  LOG_LEVEL: z
    .string()
    .transform((v) => v.toLowerCase())
    .pipe(
      z.enum(
        ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
        "must be one of fatal, error, warn, info, debug, trace, silent",
      ),
    )
    .default("info"),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:{}_-]{1,64}$/, "must be up to 64 of A-Z a-z 0-9 : { } _ -")
    .optional(),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,64}$/, "must be up to 64 of A-Z a-z 0-9 : _ -")
    .default("or:"),
  WORKER_CONCURRENCY: intIn(1, 1000).default(16),
  // A killed worker's jobs run again once their lock expires and a stalled check sees it: 10 s + 5 s
  // (BullMQ's 30 s + 30 s meant up to a minute). Steps are I/O-bound with a 5 s call timeout and
  // idempotent, so a shorter lock costs one renewal per 5 s per worker and risks nothing.
  WORKER_LOCK_MS: intIn(1000, 3_600_000).default(10_000),
  WORKER_STALLED_INTERVAL_MS: intIn(1000, 3_600_000).default(5_000),
});

export type Env = z.output<typeof envSchema>;

/** Tokens shorter than this are accepted (the contract sets no length) but warned about. */
const MIN_TOKEN_LENGTH = 16;

/** The secrets that are generated in development when unset. */
export const GENERATED_SECRETS = [
  "ROUTER_API_TOKEN",
  "ROUTER_ADMIN_TOKEN",
  "HANDOVER_WEBHOOK_SECRET",
  "OUTBOUND_WEBHOOK_SECRET",
] as const;

export interface Config {
  readonly production: boolean;
  readonly port: number;
  readonly redis: { readonly urls: readonly string[]; readonly cluster: boolean } | undefined;
  readonly rulesDir: string;
  readonly apiTokens: readonly string[];
  readonly publicKeys: readonly string[];
  readonly adminTokens: readonly string[];
  readonly handoverSecrets: readonly string[];
  readonly outboundSecrets: readonly string[];
  readonly publicBaseUrl: string | undefined;
  readonly rulesAutopublish: boolean;
  readonly decisionTtlSeconds: number;
  readonly hubspotClientSecret: string | undefined;
  readonly salesforce: { readonly orgIds: readonly string[]; readonly token: string } | undefined;
  readonly outboundAllowedHosts: readonly string[] | undefined;
  readonly webhookSubscribers: readonly string[];
  readonly corsOrigins: readonly string[];
  readonly rateLimitPerMinute: number;
  readonly logLevel: Env["LOG_LEVEL"];
  readonly queuePrefix: string;
  readonly keyPrefix: string;
  /** Settings that work but are unwise (short tokens); logged at start, never with the value. */
  readonly warnings: readonly string[];
  /** Step worker tuning: jobs at once per process; a killed worker's jobs return after lockMs. */
  readonly worker: {
    readonly concurrency: number;
    readonly lockMs: number;
    readonly stalledIntervalMs: number;
  };
}

/** NODE_ENV names production whatever its case (`Production` must not generate secrets). */
export const isProduction = (nodeEnv: string | undefined): boolean =>
  nodeEnv?.trim().toLowerCase() === "production";

export type ConfigError = { readonly variable: string; readonly message: string };

/**
 * Parses the environment. Secrets may be supplied by `generated` (dev only); a missing
 * secret in production is a configuration error.
 */
export function parseConfig(
  raw: Readonly<Record<string, string | undefined>>,
  generated: Partial<Record<(typeof GENERATED_SECRETS)[number], string>> = {},
): { ok: true; config: Config } | { ok: false; error: ConfigError } {
  const input: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    // Surrounding whitespace (a stray space in an env file) is not part of any value.
    const v = raw[key]?.trim();
    if (v !== undefined && v !== "") input[key] = v;
  }
  const parsed = envSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? "environment");
    return { ok: false, error: { variable, message: issue?.message ?? "is invalid" } };
  }
  const env = parsed.data;
  const production = isProduction(env.NODE_ENV);
  const secret = (name: (typeof GENERATED_SECRETS)[number], value: string[] | undefined) => {
    if (value && value.length > 0) return value;
    const g = generated[name];
    return g ? [g] : [];
  };
  const apiTokens = secret("ROUTER_API_TOKEN", env.ROUTER_API_TOKEN);
  const adminTokens = secret("ROUTER_ADMIN_TOKEN", env.ROUTER_ADMIN_TOKEN);
  const handoverSecrets = secret("HANDOVER_WEBHOOK_SECRET", env.HANDOVER_WEBHOOK_SECRET);
  const outboundSecrets = secret("OUTBOUND_WEBHOOK_SECRET", env.OUTBOUND_WEBHOOK_SECRET);
  for (const [name, v] of [
    ["ROUTER_API_TOKEN", apiTokens],
    ["ROUTER_ADMIN_TOKEN", adminTokens],
    ["HANDOVER_WEBHOOK_SECRET", handoverSecrets],
    ["OUTBOUND_WEBHOOK_SECRET", outboundSecrets],
  ] as const) {
    if (v.length === 0) return { ok: false, error: { variable: name, message: "is required" } };
  }
  // One value in two scopes would make the browser-shipped public key an API or admin token (or
  // the API token an admin one): whichever scope auth finds first would win, silently.
  const scopes = [
    ["ROUTER_API_TOKEN", apiTokens],
    ["ROUTER_PUBLIC_KEY", env.ROUTER_PUBLIC_KEY ?? []],
    ["ROUTER_ADMIN_TOKEN", adminTokens],
  ] as const;
  for (const [i, [name, values]] of scopes.entries())
    for (const [other, otherValues] of scopes.slice(0, i))
      if (values.some((v) => otherValues.includes(v)))
        return {
          ok: false,
          error: { variable: name, message: `holds a value that is also in ${other}: a token has one scope` },
        };
  if ((env.SALESFORCE_ORG_IDS === undefined) !== (env.SALESFORCE_TOKEN === undefined)) {
    return {
      ok: false,
      error: { variable: "SALESFORCE_TOKEN", message: "SALESFORCE_ORG_IDS and SALESFORCE_TOKEN go together" },
    };
  }
  const warnings: string[] = [];
  for (const [name, values] of [
    ["ROUTER_API_TOKEN", env.ROUTER_API_TOKEN],
    ["ROUTER_PUBLIC_KEY", env.ROUTER_PUBLIC_KEY],
    ["ROUTER_ADMIN_TOKEN", env.ROUTER_ADMIN_TOKEN],
  ] as const) {
    if (values?.some((v) => v.length < MIN_TOKEN_LENGTH))
      warnings.push(`${name} holds a value shorter than ${MIN_TOKEN_LENGTH} characters: easy to guess`);
  }
  return {
    ok: true,
    config: {
      warnings,
      production,
      port: env.PORT,
      redis: env.REDIS_URL,
      rulesDir: env.RULES_DIR,
      apiTokens,
      publicKeys: env.ROUTER_PUBLIC_KEY ?? [],
      adminTokens,
      handoverSecrets,
      outboundSecrets,
      publicBaseUrl: env.PUBLIC_BASE_URL?.replace(/\/+$/, ""),
      rulesAutopublish: env.RULES_AUTOPUBLISH,
      decisionTtlSeconds: env.DECISION_TTL_DAYS * 86_400,
      hubspotClientSecret: env.HUBSPOT_CLIENT_SECRET,
      salesforce:
        env.SALESFORCE_ORG_IDS && env.SALESFORCE_TOKEN
          ? { orgIds: env.SALESFORCE_ORG_IDS, token: env.SALESFORCE_TOKEN }
          : undefined,
      outboundAllowedHosts: env.OUTBOUND_ALLOWED_HOSTS,
      webhookSubscribers: env.WEBHOOK_SUBSCRIBERS,
      corsOrigins: env.CORS_ORIGINS,
      rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
      logLevel: env.LOG_LEVEL,
      queuePrefix: env.QUEUE_PREFIX ?? "{or}",
      keyPrefix: env.REDIS_KEY_PREFIX,
      worker: {
        concurrency: env.WORKER_CONCURRENCY,
        lockMs: env.WORKER_LOCK_MS,
        stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
      },
    },
  };
}
