import { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { Endpoint } from "./context.js";
import { PROBLEMS } from "./errors.js";

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.enum(Object.keys(PROBLEMS) as [keyof typeof PROBLEMS, ...(keyof typeof PROBLEMS)[]]),
    detail: z.string(),
    requestId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() }).passthrough()).optional(),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details; every non-2xx answer has this shape" });

const problemContent = { "application/problem+json": { schema: problemSchema } };

/**
 * The OpenAPI entry of an HTML page behind the admin token, which the page's handler checks
 * itself (bearer, or HTTP Basic for a browser).
 */
export function adminPageDoc(tag: string, summary: string, page: string, more = "") {
  return {
    tags: [tag],
    summary,
    description: `The admin token as a bearer token, or as the password of HTTP Basic auth (a browser asks for it).${more}`,
    security: [{ adminToken: [] }],
    responses: {
      200: { description: page },
      401: { description: "missing or unknown token" },
      403: { description: "a token of another scope" },
    },
  };
}

/** Builds the OpenAPI 3.1 document from the same zod schemas the endpoints validate with. */
export function buildOpenApiDocument<S>(endpoints: readonly Endpoint<S>[], version: string): unknown {
  const doc = new OpenAPIHono();
  doc.openAPIRegistry.registerComponent("securitySchemes", "apiToken", {
    type: "http",
    scheme: "bearer",
    description: "ROUTER_API_TOKEN (backends) — or ROUTER_PUBLIC_KEY where noted",
  });
  doc.openAPIRegistry.registerComponent("securitySchemes", "adminToken", {
    type: "http",
    scheme: "bearer",
    description: "ROUTER_ADMIN_TOKEN",
  });
  for (const e of endpoints) {
    if (!e.openapi) continue;
    const path = e.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    // Pages that check the admin token themselves (console, queue board) declare it in `security`.
    const security =
      e.openapi.security ??
      (e.scopes.length === 0 ? [] : e.scopes.includes("admin") ? [{ adminToken: [] }] : [{ apiToken: [] }]);
    const errorResponses: Record<string, { description: string; content: typeof problemContent }> = {};
    const add = (status: number, description: string) => {
      if (!(String(status) in (e.openapi?.responses ?? {})))
        errorResponses[String(status)] = { description, content: problemContent };
    };
    if (e.scopes.length > 0) {
      add(401, "missing or unknown bearer token");
      add(403, "token of the wrong scope");
      add(429, "over RATE_LIMIT_PER_MINUTE for this token (retry-after says when)");
    }
    if (e.method !== "GET") {
      add(400, "malformed JSON");
      add(413, "body over 64 KiB");
      add(415, "not application/json");
      add(422, "body fails validation");
    }
    add(503, "Redis unavailable");
    add(500, "internal error (no details leak)");
    // An endpoint's own error statuses (404, 409, …) are problem+json like every other.
    const own = Object.fromEntries(
      Object.entries(e.openapi.responses).map(([status, r]) =>
        Number(status) >= 400 && !("content" in r && r.content)
          ? [status, { ...r, content: problemContent }]
          : [status, r],
      ),
    );
    doc.openAPIRegistry.registerPath({
      ...e.openapi,
      method: e.method.toLowerCase() as "get",
      path,
      security,
      responses: { ...own, ...errorResponses },
    });
  }
  return doc.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "onboarding-router",
      version,
      description:
        "Routes B2B customers into personalised onboarding flows from the CRM handover and the onboarding survey. Every error is application/problem+json.",
    },
    servers: [{ url: "/" }],
  });
}

/** `GET /openapi.json`: the document is built once per process. */
export function openApiEndpoint<S>(getEndpoints: () => readonly Endpoint<S>[], version: string): Endpoint<S> {
  let cached: string | undefined;
  return {
    method: "GET",
    path: "/openapi.json",
    scopes: [],
    noServices: true,
    openapi: {
      tags: ["docs"],
      summary: "This OpenAPI 3.1 document, generated from the zod schemas that validate",
      responses: { 200: { description: "the document", content: { "application/json": { schema: {} } } } },
    },
    handler: (c) => {
      cached ??= JSON.stringify(buildOpenApiDocument(getEndpoints(), version));
      return c.body(cached, 200, { "content-type": "application/json; charset=utf-8" });
    },
  };
}
