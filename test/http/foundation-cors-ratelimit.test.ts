import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { buildTestApp, type TestApp, VALID_ANSWERS } from "../support/app.js";

const ALLOWED = "https://app.example.com";

describe("CORS", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({
      redisUrl: inject("redisUrl"),
      env: { CORS_ORIGINS: `${ALLOWED},https://other.example.com` },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const preflight = (path: string, origin: string) =>
    t.app.request(path, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });

  it("answers a preflight from an allowed origin with 204 and no auth", async () => {
    const res = await preflight("/v1/route", ALLOWED);
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it("does not answer a preflight from a disallowed origin with 204 nor allow the origin", async () => {
    const res = await preflight("/v1/route", "https://evil.example.com");
    expect(res.status).not.toBe(204);
    expect(res.status).toBe(405);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("marks answers to a disallowed origin as varying by Origin, without allowing it", async () => {
    const res = await t.app.request("/healthz", { headers: { origin: "https://evil.example.com" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("vary")).toBe("Origin");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("marks GET answers without an Origin as varying by Origin, so a cache keeps them from browsers", async () => {
    const res = await t.app.request("/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("vary")).toBe("Origin");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("answers a preflight to an unknown path with 404", async () => {
    const res = await preflight("/v1/nowhere", ALLOWED);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  });

  it("adds the allow-origin header to an actual request from an allowed origin, even to an error", async () => {
    const res = await t.app.request("/v1/route", { method: "POST", headers: { origin: ALLOWED } });
    expect(res.status).toBe(401);
    expect(res.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(res.headers.get("access-control-expose-headers")).toContain("x-request-id");
  });
});

describe("the rate limit", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ redisUrl: inject("redisUrl"), env: { RATE_LIMIT_PER_MINUTE: "3" } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const send = (token: string) =>
    t.app.request("/v1/route", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ accountId: "acme-rl", survey: { answers: VALID_ANSWERS } }),
    });

  it("answers the 4th request with the same token in a minute with 429 and retry-after, and counts tokens apart", async () => {
    // Keep the four requests inside one fixed minute window.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 57_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 50));
    for (let i = 0; i < 3; i++) expect((await send(t.tokens.api)).status).toBe(200);
    const res = await send(t.tokens.api);
    expect(res.status).toBe(429);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const retry = Number(res.headers.get("retry-after"));
    expect(Number.isInteger(retry)).toBe(true);
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      code: "rate_limited",
      status: 429,
      requestId: res.headers.get("x-request-id"),
    });
    expect((await send(t.tokens.public)).status).toBe(200);
  });

  it("checks auth before the rate limit", async () => {
    expect((await send("unknown-token-unknown-token")).status).toBe(401);
  });
});
