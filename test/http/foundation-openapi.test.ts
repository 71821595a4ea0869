import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { buildTestApp, type TestApp } from "../support/app.js";

let t: TestApp;

beforeAll(async () => {
  t = await buildTestApp({ redisUrl: inject("redisUrl") });
});
afterAll(async () => {
  await t?.close();
});

/** The edge's copy of the Node entry's document (both serve one document, CONTRACT.md). */
const EDGE_COPY = resolve(import.meta.dirname, "../../src/adapters/edge/openapi.json");

describe("GET /openapi.json", () => {
  it("is the document the edge serves: its committed copy equals the Node entry's (npm run openapi:edge)", async () => {
    const doc = await (await t.app.request("/openapi.json")).json();
    if (process.env.UPDATE_OPENAPI === "1") writeFileSync(EDGE_COPY, `${JSON.stringify(doc, null, 2)}\n`);
    const copy = JSON.parse(readFileSync(EDGE_COPY, "utf8"));
    expect(copy, "src/adapters/edge/openapi.json is stale: run npm run openapi:edge").toEqual(doc);
  });

  it("marks what only the Node entry serves, and nothing both entries serve", async () => {
    const doc = (await (await t.app.request("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { description?: string }>>;
    };
    const nodeOnly = (path: string, method: string) =>
      doc.paths[path]?.[method]?.description?.includes("Served by the Node entry only") === true;
    expect(nodeOnly("/v1/admin/rules", "get")).toBe(true);
    expect(nodeOnly("/v1/accounts/{accountId}", "delete")).toBe(true);
    expect(nodeOnly("/v1/route", "post")).toBe(false);
    expect(nodeOnly("/v1/accounts/{accountId}", "get")).toBe(false);
    expect(nodeOnly("/v1/handover", "post")).toBe(false);
  });

  it("is a valid OpenAPI 3.1 document listing /v1/route and the health routes", async () => {
    const res = await t.app.request("/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\.1\./);
    const v = new Validator();
    const result = await v.validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/v1/route", "/healthz", "/readyz"]));
    expect(doc.paths["/v1/route"]?.post).toBeDefined();
  });

  it("lists the documents, pages and boards it serves, with the admin token where they need it", async () => {
    const doc = (await (await t.app.request("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { security?: unknown[]; responses?: Record<string, unknown> }>>;
    };
    for (const path of ["/openapi.json", "/docs", "/metrics", "/console", "/admin/queues"])
      expect(doc.paths[path]?.get, path).toBeDefined();
    for (const path of ["/console", "/admin/queues"]) {
      expect(doc.paths[path]?.get?.security).toEqual([{ adminToken: [] }]);
      expect(Object.keys(doc.paths[path]?.get?.responses ?? {})).toEqual(
        expect.arrayContaining(["401", "403"]),
      );
    }
    expect(doc.paths["/docs"]?.get?.security).toEqual([]);
  });

  it("documents the problem+json errors of /v1/route", async () => {
    const doc = (await (await t.app.request("/openapi.json")).json()) as {
      paths: Record<string, { post?: { responses: Record<string, { content?: Record<string, unknown> }> } }>;
    };
    const responses = doc.paths["/v1/route"]?.post?.responses ?? {};
    for (const status of ["200", "401", "403", "413", "415", "422", "503"])
      expect(responses[status], status).toBeDefined();
    expect(Object.keys(responses["422"]?.content ?? {})).toContain("application/problem+json");
  });
});

describe("what /openapi.json promises", () => {
  type Doc = {
    paths: Record<
      string,
      Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>
    >;
    components: { schemas: Record<string, { example?: unknown }> };
  };
  const doc = async () => (await (await t.app.request("/openapi.json")).json()) as Doc;

  it("has a RouteRequest example that /v1/route accepts", async () => {
    const example = (await doc()).components.schemas.RouteRequest?.example;
    expect(example).toBeDefined();
    const res = await t.app.request("/v1/route", {
      method: "POST",
      headers: { authorization: `Bearer ${t.tokens.api}`, "content-type": "application/json" },
      body: JSON.stringify(example),
    });
    expect(res.status).toBe(200);
  });

  it("lists the error statuses each endpoint can answer, all as problem+json", async () => {
    const d = await doc();
    const statuses = (path: string, method: string) => Object.keys(d.paths[path]?.[method]?.responses ?? {});
    expect(statuses("/v1/admin/rules", "put")).toContain("409");
    expect(statuses("/v1/accounts/{accountId}/outcomes", "post")).toContain("404");
    expect(statuses("/v1/handover", "post")).toContain("401");
    expect(statuses("/v1/handover/hubspot", "post")).toContain("401");
    expect(statuses("/v1/handover/salesforce", "post")).toEqual(expect.arrayContaining(["401", "403"]));
    expect(statuses("/v1/route", "post")).toContain("429");
    // /readyz's 503 is the contract's own JSON body ({status:"unavailable",checks}), not a problem.
    for (const [path, ops] of Object.entries(d.paths).filter(([p]) => p !== "/readyz"))
      for (const [method, op] of Object.entries(ops))
        for (const [status, r] of Object.entries(op.responses))
          if (Number(status) >= 400)
            expect(Object.keys(r.content ?? {}), `${method} ${path} ${status}`).toEqual([
              "application/problem+json",
            ]);
  });
});
