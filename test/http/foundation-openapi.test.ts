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
