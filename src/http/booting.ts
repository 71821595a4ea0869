import { OUTAGE_HEADERS, requestIdFor } from "./app.js";
import { problemResponse } from "./errors.js";

/**
 * What the HTTP port answers while the process is still starting (waiting for Redis, publishing
 * RULES_DIR): alive (`/healthz` 200), not ready (`/readyz` 503), and every other request a 503
 * problem+json, so orchestrators and clients see a starting service rather than a closed port.
 */
export function bootingFetch(req: Request): Response {
  const requestId = requestIdFor(req.headers.get("x-request-id"));
  const path = new URL(req.url).pathname;
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", "cache-control": "no-store", "x-request-id": requestId },
    });
  if (path === "/healthz") return json(200, { status: "ok" });
  if (path === "/readyz")
    return json(503, { status: "unavailable", checks: { redis: "failing", rules: "failing" } });
  return problemResponse(
    "unavailable",
    "The service is starting (waiting for Redis); retry shortly",
    requestId,
    undefined,
    OUTAGE_HEADERS,
  );
}
