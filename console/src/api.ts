/** The admin token lives in sessionStorage: entered once per browser session, gone when it closes. */
const TOKEN_KEY = "or-admin-token";

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (t: string): void => sessionStorage.setItem(TOKEN_KEY, t),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

/** One error item of a problem+json body. */
export interface ProblemItem {
  file?: string;
  path?: string;
  message: string;
}

/** An application/problem+json answer, as an exception the pages can show. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly errors: ProblemItem[],
    readonly requestId: string | undefined,
  ) {
    super(detail || code);
  }
}

/** Called on 401 so the app can ask for the token again. */
let onUnauthorized: () => void = () => {};
export function whenUnauthorized(f: () => void): void {
  onUnauthorized = f;
}

/** A JSON call to the service with the session's admin token. */
export async function api<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ data: T; headers: Headers }> {
  const h: Record<string, string> = { accept: "application/json", ...headers };
  const t = token.get();
  if (t) h.authorization = `Bearer ${t}`;
  if (body !== undefined) h["content-type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers: h,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const p = (parsed ?? {}) as Record<string, unknown>;
    const problem = new Problem(
      res.status,
      typeof p.code === "string" ? p.code : `http_${res.status}`,
      typeof p.detail === "string" ? p.detail : res.statusText,
      Array.isArray(p.errors) ? (p.errors as ProblemItem[]) : [],
      typeof p.requestId === "string" ? p.requestId : (res.headers.get("x-request-id") ?? undefined),
    );
    if (res.status === 401) onUnauthorized();
    throw problem;
  }
  return { data: parsed as T, headers: res.headers };
}

/** A readable one-line message for any thrown value. */
export function describe(e: unknown): string {
  if (e instanceof Problem)
    return `${e.detail} (${e.status} ${e.code}${e.requestId ? `, request ${e.requestId}` : ""})`;
  return e instanceof Error ? e.message : String(e);
}
