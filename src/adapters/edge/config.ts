import { type Config, type ConfigError, parseConfig } from "../../config.js";
import type { HttpConfig } from "../../http/context.js";
import type { ServiceSettings } from "../../http/services.js";
import type { EdgeLogLevel } from "./logger.js";

/** What the Workers entry needs, built from its `env` bindings (vars + secrets). */
export interface EdgeConfig {
  readonly http: HttpConfig;
  readonly settings: ServiceSettings;
  /** The one Redis endpoint the edge talks to (`redis://` or `rediss://`). */
  readonly redisUrl: string;
  readonly keyPrefix: string;
  readonly logLevel: EdgeLogLevel;
}

/** Secrets only the Node process uses; the edge neither needs nor should hold them. */
const NODE_ONLY = ["ROUTER_ADMIN_TOKEN", "OUTBOUND_WEBHOOK_SECRET"] as const;

function unusableSecret(): string {
  const b = new Uint8Array(32);
  crypto.getRandomValues(b);
  return `whsec_${btoa(String.fromCharCode(...b))}`;
}

/**
 * Parses the bindings with the same schema as Node, under production rules: an unset
 * token or secret the edge uses, or a missing/cluster `REDIS_URL`, is bad configuration.
 */
export function parseEdgeConfig(
  bindings: Readonly<Record<string, unknown>>,
): { ok: true; config: EdgeConfig } | { ok: false; error: ConfigError } {
  const raw: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(bindings)) if (typeof v === "string") raw[k] = v;
  raw.NODE_ENV = "production";
  // Node-only secrets left unbound get a random value nobody knows, so the shared schema is
  // satisfied; an unbound admin token is then dropped below, and the edge never signs webhooks.
  const adminBound = typeof raw.ROUTER_ADMIN_TOKEN === "string" && raw.ROUTER_ADMIN_TOKEN.trim() !== "";
  const filler = Object.fromEntries(NODE_ONLY.map((name) => [name, unusableSecret()]));
  const parsed = parseConfig(raw, filler);
  if (!parsed.ok) return parsed;
  const c: Config = parsed.config;
  if (!c.redis) return { ok: false, error: { variable: "REDIS_URL", message: "is required on the edge" } };
  const [url] = c.redis.urls;
  if (c.redis.cluster || !url) {
    return {
      ok: false,
      error: {
        variable: "REDIS_URL",
        message: "must be one redis:// or rediss:// endpoint on the edge (no Cluster)",
      },
    };
  }
  // The prefix Node's schema parsed (empty = unset = "or:"): the two entries must agree on it.
  const keyPrefix = c.keyPrefix;
  const logLevel: EdgeLogLevel = c.logLevel;
  return {
    ok: true,
    config: {
      http: {
        apiTokens: c.apiTokens,
        publicKeys: c.publicKeys,
        // Bound on the edge too (a deployment with one set of variables), the admin token is
        // recognised so a shared route answers it 403 as Node does; no admin route exists here.
        adminTokens: adminBound ? c.adminTokens : [],
        corsOrigins: c.corsOrigins,
        rateLimitPerMinute: c.rateLimitPerMinute,
      },
      settings: {
        decisionTtlSeconds: c.decisionTtlSeconds,
        handoverSecrets: c.handoverSecrets,
        hubspotClientSecret: c.hubspotClientSecret,
        salesforce: c.salesforce,
        publicBaseUrl: c.publicBaseUrl,
      },
      redisUrl: url,
      keyPrefix,
      logLevel,
    },
  };
}
