import pino from "pino";
import type { Logger } from "../core/ports.js";

// Dotless and non-ASCII domains too (`ops@intranet`, `jane@bücher.de`): the contact schema takes them.
const EMAIL = /[^\s@"<>(),;:[\]\\]+@[^\s@"<>(),;:[\]\\/]+/gu;
const WHSEC = /whsec_[A-Za-z0-9+/=]+/g;
const BEARER = /(bearer|basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const URL_PASSWORD = /(\/\/[^/@\s:]*:)[^/@\s]+@/g;
const QUERY_SECRET = /([?&](?:token|secret|key|api_key|access_token|signature)=)[^&\s"]+/gi;

/**
 * Masks what must never reach a log line: e-mail addresses, `whsec_` secrets, bearer/basic
 * credentials, URL passwords, `?token=`-style query values and the configured secrets.
 */
export function scrubText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s.length >= 8 && out.includes(s)) out = out.split(s).join("[redacted]");
  return out
    .replace(WHSEC, "[redacted]")
    .replace(BEARER, "$1 [redacted]")
    .replace(URL_PASSWORD, "$1[redacted]@")
    .replace(QUERY_SECRET, "$1[redacted]")
    .replace(EMAIL, "[email]");
}

function scrubValue(v: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof v === "string") return scrubText(v, secrets);
  if (v === null || typeof v !== "object") return v;
  // Past this depth nothing is walked, so nothing of it may be logged as is.
  if (depth > 6) return "[too deep to log]";
  if (Array.isArray(v)) return v.map((x) => scrubValue(x, secrets, depth + 1));
  if (v instanceof Error) return scrubText(String(v), secrets);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = scrubValue(x, secrets, depth + 1);
  return out;
}

/**
 * pino JSON logs. Known secret-bearing fields are redacted, and every string in a line
 * (message and fields) is scrubbed of e-mails, credentials and the configured `secrets`,
 * as a second line of defence: no secret, token or e-mail enters a log line.
 */
export function createLogger(
  level: string,
  secrets: readonly string[] = [],
): Logger & { child(b: Record<string, unknown>): Logger } {
  return pino({
    level,
    base: { service: "onboarding-router" },
    redact: {
      paths: [
        "authorization",
        "*.authorization",
        "token",
        "*.token",
        "secret",
        "*.secret",
        "email",
        "*.email",
        "*.*.email",
      ],
      censor: "[redacted]",
    },
    formatters: {
      log: (obj) => scrubValue(obj, secrets, 0) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        method.apply(
          this,
          args.map((a) => (typeof a === "string" ? scrubText(a, secrets) : a)) as Parameters<typeof method>,
        );
      },
    },
  });
}
