import type { Context } from "hono";
import type { HttpConfig, Principal, Scope } from "./context.js";
import { ApiError } from "./errors.js";

/** Compares two strings in time independent of where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const len = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < len; i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
}

function findToken(presented: string, tokens: readonly string[]): number {
  let found = -1;
  // Compare against every token (no early exit) so timing does not reveal which list matched.
  tokens.forEach((t, i) => {
    if (constantTimeEqual(presented, t) && found < 0) found = i;
  });
  return found;
}

/**
 * Resolves the bearer token to a principal and checks its scope:
 * 401 when missing or unknown, 403 when valid but not accepted here.
 */
export function authenticate(c: Context, config: HttpConfig, accepted: readonly Scope[]): Principal {
  const header = c.req.header("authorization");
  const match = header ? /^Bearer[ ]+([^\s]+)\s*$/i.exec(header) : null;
  if (!match) {
    throw new ApiError("unauthorized", "Send Authorization: Bearer <token>", undefined, {
      "www-authenticate": 'Bearer realm="onboarding-router"',
    });
  }
  const presented = match[1]!;
  const candidates: [Scope, readonly string[]][] = [
    ["admin", config.adminTokens],
    ["api", config.apiTokens],
    ["public", config.publicKeys],
  ];
  let principal: Principal | undefined;
  for (const [scope, tokens] of candidates) {
    const i = findToken(presented, tokens);
    if (i >= 0 && !principal) {
      const tokenId = `${scope}:${i}`;
      const actorHeader = c.req.header("x-actor");
      const actor =
        actorHeader && /^[\w .@:-]{1,100}$/.test(actorHeader) ? `${actorHeader} (${tokenId})` : tokenId;
      principal = { scope, tokenId, actor };
    }
  }
  if (!principal) {
    throw new ApiError("unauthorized", "The bearer token is not valid", undefined, {
      "www-authenticate": 'Bearer realm="onboarding-router", error="invalid_token"',
    });
  }
  if (!accepted.includes(principal.scope)) {
    throw new ApiError("forbidden", `The ${principal.scope} token's scope does not cover this endpoint`);
  }
  return principal;
}

/**
 * Admin pages (/console, /admin/queues): a browser cannot add a Bearer header to a page and its
 * sub-requests, so these also accept HTTP Basic with the admin token as password (any user name;
 * the browser prompts once). 401 carries a Basic challenge; an api/public token gets 403.
 */
export function authenticateAdminBrowser(c: Context, config: HttpConfig): void {
  const header = c.req.header("authorization") ?? "";
  let presented = "";
  const bearer = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  const basic = /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (bearer) presented = bearer[1]!;
  else if (basic) {
    try {
      const decoded = atob(basic[1]!);
      presented = decoded.slice(decoded.indexOf(":") + 1);
    } catch {
      // Not base64 after all (`Basic a`): no credentials, so the 401 challenge below.
    }
  }
  let ok = false;
  for (const t of config.adminTokens) ok = constantTimeEqual(presented, t) || ok;
  if (ok) return;
  const known = [...config.apiTokens, ...config.publicKeys].some((t) => constantTimeEqual(presented, t));
  if (presented && known) throw new ApiError("forbidden", "This page needs the admin token");
  throw new ApiError("unauthorized", "Sign in with the admin token as password (any user name)", undefined, {
    "www-authenticate": 'Basic realm="onboarding-router admin", charset="UTF-8"',
  });
}
