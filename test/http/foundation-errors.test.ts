import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createApp } from "../../src/http/app.js";
import type { Endpoint } from "../../src/http/context.js";
import { buildTestApp, type TestApp, VALID_ANSWERS } from "../support/app.js";

let t: TestApp;

beforeAll(async () => {
  t = await buildTestApp({ redisUrl: inject("redisUrl") });
});
afterAll(async () => {
  await t?.close();
});

const CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  413: "payload_too_large",
  415: "unsupported_media_type",
  422: "validation_failed",
  429: "rate_limited",
  500: "internal",
  503: "unavailable",
};

/** Asserts the one problem+json shape and returns the body. */
async function expectProblem(res: Response, status: number): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  const body = (await res.json()) as Record<string, unknown>;
  const code = CODES[status];
  expect(body).toMatchObject({ type: `/problems/${code}`, status, code });
  expect(typeof body.title).toBe("string");
  expect((body.title as string).length).toBeGreaterThan(0);
  expect(typeof body.detail).toBe("string");
  expect(body.requestId).toBe(res.headers.get("x-request-id"));
  expect(body.requestId).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
  return body;
}

const route = (init: { token?: string; body?: BodyInit; type?: string; headers?: Record<string, string> }) =>
  t.app.request("/v1/route", {
    method: "POST",
    headers: {
      ...(init.token !== undefined ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.type !== undefined ? { "content-type": init.type } : {}),
      ...init.headers,
    },
    body: init.body ?? null,
  });

const validBody = () => JSON.stringify({ accountId: "acme-errors", survey: { answers: VALID_ANSWERS } });

describe("problem+json for every error code", () => {
  it("answers a valid request with 200, so the faults below are what the errors are about", async () => {
    const res = await route({ token: t.tokens.api, type: "application/json", body: validBody() });
    expect(res.status).toBe(200);
  });

  it("answers malformed JSON with 400 bad_request", async () => {
    await expectProblem(
      await route({ token: t.tokens.api, type: "application/json", body: '{"accountId":' }),
      400,
    );
  });

  it("answers a missing bearer token with 401 and www-authenticate", async () => {
    const res = await route({ type: "application/json", body: validBody() });
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
    await expectProblem(res, 401);
  });

  it("answers an unknown bearer token with 401 and www-authenticate", async () => {
    const res = await route({
      token: "not-a-real-token-000000",
      type: "application/json",
      body: validBody(),
    });
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer .*invalid_token/);
    await expectProblem(res, 401);
  });

  it("answers an admin token on /v1/route with 403 forbidden", async () => {
    await expectProblem(
      await route({ token: t.tokens.admin, type: "application/json", body: validBody() }),
      403,
    );
  });

  it("accepts the public key on /v1/route", async () => {
    const res = await route({ token: t.tokens.public, type: "application/json", body: validBody() });
    expect(res.status).toBe(200);
  });

  it("answers an unknown path with 404 not_found", async () => {
    await expectProblem(await t.app.request("/v1/nope"), 404);
  });

  it("answers a known path with the wrong method with 405 and an allow header", async () => {
    const res = await t.app.request("/v1/route", { method: "GET" });
    expect(res.headers.get("allow")).toBe("POST");
    await expectProblem(res, 405);
  });

  it("lists GET and HEAD in allow for a GET-only path, and serves HEAD", async () => {
    const res = await t.app.request("/healthz", { method: "DELETE" });
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    await expectProblem(res, 405);
    expect((await t.app.request("/healthz", { method: "HEAD" })).status).toBe(200);
  });

  it("answers a trailing-slash variant of a known path with 404, never a 405 that allows its own method", async () => {
    for (const [method, path] of [
      ["POST", "/v1/route/"],
      ["GET", "/healthz/"],
    ] as const) {
      const res = await t.app.request(path, { method });
      expect(res.headers.get("allow"), path).toBeNull();
      await expectProblem(res, 404);
    }
  });

  it("answers a 65 KiB body sent with Content-Length with 413", async () => {
    const big = JSON.stringify({
      accountId: "a",
      survey: { answers: {} },
      context: { pad: "x".repeat(65 * 1024) },
    });
    const res = await route({
      token: t.tokens.api,
      type: "application/json",
      body: big,
      headers: { "content-length": String(big.length) },
    });
    await expectProblem(res, 413);
  });

  it("answers a 65 KiB chunked body without Content-Length with 413", async () => {
    const chunk = new TextEncoder().encode("x".repeat(1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 65) controller.close();
        else {
          sent++;
          controller.enqueue(chunk);
        }
      },
    });
    const req = new Request("http://localhost/v1/route", {
      method: "POST",
      headers: { authorization: `Bearer ${t.tokens.api}`, "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit & { duplex: "half" });
    expect(req.headers.get("content-length")).toBeNull();
    await expectProblem(await t.app.request(req), 413);
    expect(sent).toBeLessThanOrEqual(65);
  });

  it("answers text/plain with 415", async () => {
    await expectProblem(await route({ token: t.tokens.api, type: "text/plain", body: validBody() }), 415);
  });

  it("accepts application/json with charset utf-8 and application/*+json", async () => {
    for (const type of ["application/json; charset=utf-8", "application/vnd.router+json"]) {
      const res = await route({ token: t.tokens.api, type, body: validBody() });
      expect(res.status, type).toBe(200);
    }
  });

  it("answers an invalid body with 422 naming each path in errors[]", async () => {
    const res = await route({
      token: t.tokens.api,
      type: "application/json",
      body: JSON.stringify({
        accountId: "acme",
        survey: { answers: { ...VALID_ANSWERS, teamSize: "many" } },
      }),
    });
    const body = await expectProblem(res, 422);
    const errors = body.errors as { path: string; message: string }[];
    expect(Array.isArray(errors)).toBe(true);
    expect(errors.map((e) => e.path)).toContain("survey.answers.teamSize");
    for (const e of errors) expect(typeof e.message).toBe("string");
    expect(body.detail).toContain("survey.answers.teamSize");
  });

  it("answers an invalid accountId with 422 at path accountId", async () => {
    const res = await route({
      token: t.tokens.api,
      type: "application/json",
      body: JSON.stringify({ accountId: "bad id!", survey: { answers: VALID_ANSWERS } }),
    });
    const body = await expectProblem(res, 422);
    expect((body.errors as { path: string }[]).map((e) => e.path)).toContain("accountId");
  });

  it.each(["events", "outcomes"])(
    "names a bad account id in the %s path as path.accountId, as GET does",
    async (tail) => {
      const res = await t.app.request(`/v1/accounts/a%20b/${tail}`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.tokens.api}`, "content-type": "application/json" },
        body: JSON.stringify({ type: "activated" }),
      });
      const body = await expectProblem(res, 422);
      expect((body.errors as { path: string }[]).map((e) => e.path)).toEqual(["path.accountId"]);
    },
  );
});

describe("the check order", () => {
  it("answers 404 before auth for an unknown path", async () => {
    await expectProblem(await t.app.request("/v1/unknown", { method: "POST" }), 404);
  });

  it("answers 405 before auth for a wrong method", async () => {
    await expectProblem(await t.app.request("/v1/route", { method: "DELETE" }), 405);
  });

  it("answers 401 for a wrong token with a bad body", async () => {
    await expectProblem(
      await route({ token: "wrong-token-wrong-token", type: "text/plain", body: "{" }),
      401,
    );
  });

  it("answers 403 for a wrong-scope token with a bad body", async () => {
    await expectProblem(await route({ token: t.tokens.admin, type: "text/plain", body: "{" }), 403);
  });

  it("answers 413 (not 415) for an oversized text/plain body", async () => {
    await expectProblem(
      await route({ token: t.tokens.api, type: "text/plain", body: "x".repeat(65 * 1024) }),
      413,
    );
  });

  it("answers 415 (not 400) for malformed JSON with a wrong content type", async () => {
    await expectProblem(await route({ token: t.tokens.api, type: "text/plain", body: "{nope" }), 415);
  });

  it("answers 415 for a body with no content type", async () => {
    await expectProblem(await route({ token: t.tokens.api, body: validBody() }), 415);
  });

  it("answers 400 (not 422) for malformed JSON", async () => {
    await expectProblem(await route({ token: t.tokens.api, type: "application/json", body: "[1," }), 400);
  });
});

describe("x-request-id", () => {
  it("keeps a valid incoming id", async () => {
    const id = "client.Req_123-abc";
    const res = await t.app.request("/healthz", { headers: { "x-request-id": id } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe(id);
  });

  it("keeps a valid incoming id in a problem body", async () => {
    const id = "A".repeat(128);
    const res = await t.app.request("/nope", { headers: { "x-request-id": id } });
    const body = await expectProblem(res, 404);
    expect(body.requestId).toBe(id);
  });

  it.each([["bad id!"], ["x".repeat(200)], ["a/b"]])("replaces the invalid incoming id %#", async (bad) => {
    const res = await t.app.request("/nope", { headers: { "x-request-id": bad } });
    const id = res.headers.get("x-request-id");
    expect(id).not.toBe(bad);
    expect(id).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
    const body = await expectProblem(res, 404);
    expect(body.requestId).toBe(id);
  });

  it("makes a fresh id for each request", async () => {
    const a = (await t.app.request("/healthz")).headers.get("x-request-id");
    const b = (await t.app.request("/healthz")).headers.get("x-request-id");
    expect(a).toBeTruthy();
    expect(a).not.toBe(b);
  });

  it("sets the id on 200, 404, 405, 401, 415 and 422 answers", async () => {
    const answers = [
      await t.app.request("/healthz"),
      await t.app.request("/readyz"),
      await t.app.request("/openapi.json"),
      await t.app.request("/nope"),
      await t.app.request("/v1/route"),
      await route({ type: "application/json", body: validBody() }),
      await route({ token: t.tokens.api, type: "text/plain", body: "x" }),
      await route({ token: t.tokens.api, type: "application/json", body: "{}" }),
    ];
    for (const res of answers)
      expect(res.headers.get("x-request-id"), `${res.status}`).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
  });
});

describe("a 500", () => {
  const secret = "db password is hunter2";
  const boom: Endpoint<object> = {
    method: "GET",
    path: "/boom",
    scopes: [],
    handler: () => {
      throw new Error(secret);
    },
  };
  const logged: unknown[] = [];
  const logger = {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (o: unknown) => {
      logged.push(o);
    },
  };
  const app = createApp<object>(
    {
      config: { apiTokens: [], publicKeys: [], adminTokens: [], corsOrigins: [], rateLimitPerMinute: 0 },
      clock: { now: () => new Date() },
      logger: logger as never,
      services: { acquire: () => ({}) },
      readiness: async () => ({ ready: true, checks: {} }),
    },
    [boom],
  );

  it("answers internal with no stack trace or error message in the body", async () => {
    const res = await app.request("/boom", { headers: { "x-request-id": "boom-1" } });
    const text = await res.text();
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(res.headers.get("x-request-id")).toBe("boom-1");
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(body).toMatchObject({
      type: "/problems/internal",
      status: 500,
      code: "internal",
      requestId: "boom-1",
    });
    expect(text).not.toContain(secret);
    expect(text).not.toMatch(/\bat .*\(|\.ts:\d+|\.js:\d+|Error:/);
    expect(logged.length).toBe(1);
  });
});
