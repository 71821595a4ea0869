import type { Context } from "hono";

/** The closed table of problem codes and their HTTP statuses (CONTRACT.md "Errors"). */
export const PROBLEMS = {
  bad_request: { status: 400, title: "Malformed request" },
  unauthorized: { status: 401, title: "Authentication required" },
  forbidden: { status: 403, title: "Not allowed" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  conflict: { status: 409, title: "Conflict" },
  payload_too_large: { status: 413, title: "Request body is too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  validation_failed: { status: 422, title: "Request body is invalid" },
  rate_limited: { status: 429, title: "Too many requests" },
  internal: { status: 500, title: "Internal error" },
  unavailable: { status: 503, title: "Service unavailable" },
} as const;

export type ProblemCode = keyof typeof PROBLEMS;

export interface FieldError {
  readonly path: string;
  readonly message: string;
  readonly [extra: string]: unknown;
}

export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: ProblemCode;
  readonly detail: string;
  readonly requestId: string;
  readonly errors?: readonly FieldError[];
}

/** An expected failure the HTTP layer turns into problem+json. Thrown only inside handlers. */
export class ApiError extends Error {
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly errors?: readonly FieldError[],
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(detail);
    this.name = "ApiError";
  }
}

/** Builds the single problem+json body. */
export function problemBody(
  code: ProblemCode,
  detail: string,
  requestId: string,
  errors?: readonly FieldError[],
): ProblemBody {
  const p = PROBLEMS[code];
  return {
    type: `/problems/${code}`,
    title: p.title,
    status: p.status,
    code,
    detail,
    requestId,
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

/** A problem+json Response; the request id header is set by the request-id middleware too. */
export function problemResponse(
  code: ProblemCode,
  detail: string,
  requestId: string,
  errors?: readonly FieldError[],
  headers?: Readonly<Record<string, string>>,
): Response {
  const body = problemBody(code, detail, requestId, errors);
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: { "content-type": "application/problem+json", "x-request-id": requestId, ...headers },
  });
}

/** Answers with a problem from inside a handler. */
export function problem(
  c: Context,
  code: ProblemCode,
  detail: string,
  errors?: readonly FieldError[],
): Response {
  return problemResponse(code, detail, requestIdOf(c), errors);
}

export function requestIdOf(c: Context): string {
  const id = c.get("requestId" as never) as unknown;
  return typeof id === "string" ? id : "req_unknown";
}

/** Formats zod issues as field errors with dotted paths; an unknown key gets its own path. */
export function zodFieldErrors(
  issues: readonly {
    path: readonly PropertyKey[];
    message: string;
    code?: string;
    keys?: readonly string[];
  }[],
  prefix = "",
): FieldError[] {
  const join = (parts: readonly PropertyKey[]) =>
    [prefix, ...parts.map(String)].filter((s) => s !== "").join(".") || "(body)";
  return issues.flatMap((i) =>
    // zod reports every unknown key of an object in one issue at the object's path; name each
    // key instead (`acountId: unknown key`), so a typo is found at its own path.
    i.code === "unrecognized_keys" && i.keys && i.keys.length > 0
      ? i.keys.map((key) => ({ path: join([...i.path, key]), message: "unknown key" }))
      : [{ path: join(i.path), message: i.message }],
  );
}

/** The one-line `detail` for a list of field errors. */
export function detailOf(errors: readonly FieldError[]): string {
  const first = errors[0];
  if (!first) return "The request is invalid";
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
  return `${first.path}: ${first.message}${more}`;
}
