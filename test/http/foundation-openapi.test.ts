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

describe("GET /openapi.json", () => {
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
