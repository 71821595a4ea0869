import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { buildTestApp, type TestApp, VALID_ANSWERS } from "../support/app.js";

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ redisUrl: inject("redisUrl"), env: { CORS_ORIGINS: "https://app.example" } });
});
afterAll(async () => {
  await t.close();
});

const SECURITY_HEADERS = {
  "cross-origin-opener-policy": "same-origin",
  "origin-agent-cluster": "?1",
  "referrer-policy": "no-referrer",
  "strict-transport-security": "max-age=15552000; includeSubDomains",
  "x-content-type-options": "nosniff",
  "x-dns-prefetch-control": "off",
  "x-download-options": "noopen",
  "x-frame-options": "SAMEORIGIN",
  "x-permitted-cross-domain-policies": "none",
  "x-xss-protection": "0",
};

function route(body: unknown, extra: Record<string, string> = {}) {
  return t.app.request("/v1/route", {
    method: "POST",
    headers: { authorization: `Bearer ${t.tokens.api}`, "content-type": "application/json", ...extra },
    body: JSON.stringify(body),
  });
}

const accountId = () => `hdr-${Math.random().toString(36).slice(2, 10)}`;

describe("POST /v1/route response headers", () => {
  it("carries the security headers, JSON content type and the caller's request id on a 200", async () => {
    const res = await route(
      { accountId: accountId(), survey: { answers: VALID_ANSWERS } },
      { "x-request-id": "trace-123" },
    );
    expect(res.status).toBe(200);
    expect(Object.fromEntries(res.headers)).toMatchObject({
      ...SECURITY_HEADERS,
      "content-type": "application/json",
      "x-request-id": "trace-123",
    });
    expect(res.headers.get("cross-origin-resource-policy")).toBeNull();
  });

  it("carries the same security headers on a problem answer", async () => {
    const res = await route({ accountId: "bad id!", survey: { answers: VALID_ANSWERS } });
    expect(res.status).toBe(422);
    expect(Object.fromEntries(res.headers)).toMatchObject(SECURITY_HEADERS);
    expect(res.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{24}$/);
  });

  it("adds the CORS headers for an allowed origin on a 200", async () => {
    const res = await route(
      { accountId: accountId(), survey: { answers: VALID_ANSWERS } },
      { origin: "https://app.example" },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
  });

  it("gives every request its own request id", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const res = await route({ accountId: accountId(), survey: { answers: VALID_ANSWERS } });
      ids.add(res.headers.get("x-request-id") ?? "");
    }
    expect(ids.size).toBe(20);
  });
});
