import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { bankHandover } from "../fixtures/answers.js";
import { buildTestApp, postSignedHandover, type TestApp, VALID_ANSWERS } from "../support/app.js";

let t: TestApp;
let server: ServerType;
let port = 0;
beforeAll(async () => {
  t = await buildTestApp({ redisUrl: inject("redisUrl") });
  server = serve({ fetch: t.app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((r) => server.once("listening", () => r()));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((r) => server?.close(() => r()));
  await t?.close();
});

/** A request over a real socket, for what fetch refuses to send (a GET with a body). */
function raw(method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const framing = body !== undefined ? { "content-length": String(Buffer.byteLength(body)) } : {};
    const req = httpRequest(
      { host: "127.0.0.1", port, method, path, headers: { ...headers, ...framing } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const uniq = (p: string) => `${p}-${Math.random().toString(36).slice(2, 10)}`;

/** A refused request stored nothing: the account stays unknown. */
async function expectNothingStored(accountId: string): Promise<void> {
  const res = await t.app.request(`/v1/accounts/${accountId}`, {
    headers: { authorization: `Bearer ${t.tokens.api}` },
  });
  expect(res.status).toBe(404);
}

async function problemOf(res: Response, status: number, code: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  expect({ status: res.status, text }).toMatchObject({ status });
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(body).toMatchObject({ type: `/problems/${code}`, status, code });
  expect(body.requestId).toBe(res.headers.get("x-request-id"));
  return body;
}

const post = (
  path: string,
  body: BodyInit | null,
  headers: Record<string, string> = {},
  token = t.tokens.api,
) =>
  t.app.request(path, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
    body,
  });

const routeBody = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ accountId: uniq("err"), survey: { answers: VALID_ANSWERS }, ...extra });

describe("media types", () => {
  it("accepts application/json;charset=UTF-8 with no space and upper-case charset", async () => {
    const res = await post("/v1/route", routeBody(), { "content-type": "application/json;charset=UTF-8" });
    expect(res.status).toBe(200);
  });
  it("accepts application/vnd.api+json", async () => {
    const res = await post("/v1/route", routeBody(), { "content-type": "application/vnd.api+json" });
    expect(res.status).toBe(200);
  });
  it("answers application/json; charset=latin1 with 415", async () => {
    await problemOf(
      await post("/v1/route", routeBody(), { "content-type": "application/json; charset=latin1" }),
      415,
      "unsupported_media_type",
    );
  });
  it("answers text/json and application/jsonx with 415", async () => {
    for (const ct of ["text/json", "application/jsonx", "application/json-patch", "application/+json"]) {
      await problemOf(
        await post("/v1/route", routeBody(), { "content-type": ct }),
        415,
        "unsupported_media_type",
      );
    }
  });
  it("answers a compressed body (Content-Encoding gzip) with 415, not a misleading 400", async () => {
    const { gzipSync } = await import("node:zlib");
    const zipped = new Uint8Array(gzipSync(routeBody()));
    const p = await problemOf(
      await post("/v1/route", zipped, { "content-encoding": "gzip" }),
      415,
      "unsupported_media_type",
    );
    expect(p.detail).toMatch(/Content-Encoding gzip/);
    expect((await post("/v1/route", routeBody(), { "content-encoding": "identity" })).status).toBe(200);
  });
  it("answers a body that is not UTF-8 with 400", async () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    await problemOf(await post("/v1/route", bytes), 400, "bad_request");
  });
});

describe("hostile JSON bodies on /v1/route", () => {
  it("answers a body of null with 422, not 500", async () => {
    await problemOf(await post("/v1/route", "null"), 422, "validation_failed");
  });
  it("answers an array body with 422", async () => {
    await problemOf(await post("/v1/route", "[]"), 422, "validation_failed");
  });
  it("answers a bare number or string body with 422", async () => {
    await problemOf(await post("/v1/route", "1e400"), 422, "validation_failed");
    await problemOf(await post("/v1/route", '"x"'), 422, "validation_failed");
  });
  it("answers an empty body with 400", async () => {
    await problemOf(await post("/v1/route", ""), 400, "bad_request");
  });
  it("answers deeply nested JSON within 64 KiB with 422 at its path, not 500", async () => {
    const depth = 20_000;
    const nested = `${"[".repeat(depth)}${"]".repeat(depth)}`;
    const body = `{"accountId":"deep","survey":{"answers":${JSON.stringify(VALID_ANSWERS)}},"context":{"x":${nested}}}`;
    expect(body.length).toBeLessThan(64 * 1024);
    const p = await problemOf(await post("/v1/route", body), 422, "validation_failed");
    expect((p.errors as { path: string }[])[0]?.path).toMatch(/^context\.x\.0\.0/);
  });
  it("accepts a context nested a realistic 20 levels deep", async () => {
    const nested = `${'{"a":'.repeat(20)}1${"}".repeat(20)}`;
    const body = `{"accountId":"${uniq("ok-deep")}","survey":{"answers":${JSON.stringify(VALID_ANSWERS)}},"context":${nested}}`;
    expect((await post("/v1/route", body)).status).toBe(200);
  });
  it("answers deeply nested data in events and outcomes with 422, not 500", async () => {
    const id = uniq("deepdata");
    await post("/v1/route", JSON.stringify({ accountId: id, survey: { answers: VALID_ANSWERS } }));
    const nested = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
    for (const path of ["events", "outcomes"]) {
      const body = `{"type":"activated","data":{"x":${nested}}}`;
      await problemOf(await post(`/v1/accounts/${id}/${path}`, body), 422, "validation_failed");
    }
  });
  it("answers a number JSON cannot carry (1e309) anywhere in a body with 422 at its path, storing nothing", async () => {
    const id = uniq("inf-ctx");
    const body = `{"accountId":"${id}","survey":{"answers":${JSON.stringify(VALID_ANSWERS)}},"context":{"plan":{"seats":1e309}}}`;
    const p = await problemOf(await post("/v1/route", body), 422, "validation_failed");
    expect(p.errors).toEqual([{ path: "context.plan.seats", message: "number is out of range" }]);
    await expectNothingStored(id);
  });
  it("answers a __proto__ key in context with 422 at its path, storing nothing", async () => {
    const id = uniq("proto");
    const route = `{"accountId":"${id}","survey":{"answers":${JSON.stringify(VALID_ANSWERS)}},"context":{"__proto__":{"admin":true}}}`;
    const p = await problemOf(await post("/v1/route", route), 422, "validation_failed");
    expect(p.errors).toEqual([{ path: "context.__proto__", message: "__proto__ is not an allowed key" }]);
    await expectNothingStored(id);
  });
  it("never reads a handover's __proto__ object as its fields (it is an unknown key, dropped)", async () => {
    const id = uniq("proto-ho");
    // The whole handover under __proto__ and no own field: copying it used to set a prototype whose
    // fields the schema then read as sent.
    const hidden = await postSignedHandover(t.app, `{"__proto__":${JSON.stringify(bankHandover(id))}}`);
    const p = await problemOf(hidden, 422, "validation_failed");
    expect((p.errors as { path: string }[]).map((e) => e.path)).toEqual(
      expect.arrayContaining(["accountId", "account", "deal", "contacts"]),
    );
    await expectNothingStored(id);
  });
  it("answers a signed handover nested deeper than 64 levels with 422, not 500", async () => {
    const id = uniq("deep-ho");
    const handover = JSON.stringify(bankHandover(id));
    const deep = `${handover.slice(0, -1)},"x":${"[".repeat(9000)}${"]".repeat(9000)}}`;
    const p = await problemOf(await postSignedHandover(t.app, deep), 422, "validation_failed");
    expect(p.detail).toMatch(/^x\.0\.0.*nested deeper than 64 levels$/);
  });
  it("answers a null or array handover body with 422 at (body)", async () => {
    for (const body of ["null", "[]"]) {
      const p = await problemOf(await postSignedHandover(t.app, body), 422, "validation_failed");
      expect((p.errors as { path: string }[])[0]?.path).toBe("(body)");
    }
  });
  it("answers deeply nested objects in answers with 422 at the question path", async () => {
    const depth = 5000;
    const nested = `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
    const body = `{"accountId":"deep2","survey":{"answers":{"teamSize":${nested}}}}`;
    const p = await problemOf(await post("/v1/route", body), 422, "validation_failed");
    expect(JSON.stringify(p.errors)).toContain("survey.answers.teamSize");
  });
  it("answers a huge number for an integer answer with 422", async () => {
    const body = JSON.stringify({
      accountId: "huge",
      survey: { answers: { ...VALID_ANSWERS, teamSize: 1e308 } },
    });
    const p = await problemOf(await post("/v1/route", body), 422, "validation_failed");
    expect((p.errors as { path: string }[])[0]?.path).toBe("survey.answers.teamSize");
  });
  it("answers 1e400 (Infinity after parsing) for an integer answer with 422", async () => {
    const body = `{"accountId":"inf","survey":{"answers":{"teamSize":1e400,"priorExperience":"some","goLiveTimeline":"within_month","supportStyle":"guided"}}}`;
    await problemOf(await post("/v1/route", body), 422, "validation_failed");
  });
  it("answers NaN-like strings for a number answer with 422", async () => {
    for (const v of ["NaN", "Infinity", "12", ""]) {
      const body = JSON.stringify({
        accountId: "nan",
        survey: { answers: { ...VALID_ANSWERS, teamSize: v } },
      });
      const p = await problemOf(await post("/v1/route", body), 422, "validation_failed");
      expect((p.errors as { path: string }[])[0]?.path).toBe("survey.answers.teamSize");
    }
  });
  it("answers a __proto__ key at the top level with 422", async () => {
    const body = `{"accountId":"proto","survey":{"answers":${JSON.stringify(VALID_ANSWERS)}},"__proto__":{"admin":true}}`;
    await problemOf(await post("/v1/route", body), 422, "validation_failed");
  });
  it("answers __proto__ and constructor in answers with 422 naming the path", async () => {
    const statuses: [string, unknown][] = [];
    for (const key of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      const body = `{"accountId":"proto2","survey":{"answers":{${JSON.stringify(VALID_ANSWERS).slice(1, -1)},"${key}":{"x":1}}}}`;
      const res = await post("/v1/route", body);
      const p = (await res.json()) as { errors?: { path: string }[] };
      statuses.push([key, [res.status, p.errors?.map((e) => e.path)]]);
    }
    expect(statuses).toEqual([
      ["__proto__", [422, ["survey.answers.__proto__"]]],
      ["constructor", [422, ["survey.answers.constructor"]]],
      ["toString", [422, ["survey.answers.toString"]]],
      ["hasOwnProperty", [422, ["survey.answers.hasOwnProperty"]]],
    ]);
  });
  it("answers __proto__ inside survey with 422", async () => {
    const body = `{"accountId":"proto3","survey":{"answers":${JSON.stringify(VALID_ANSWERS)},"__proto__":{}}}`;
    await problemOf(await post("/v1/route", body), 422, "validation_failed");
  });
  it("does not pollute Object.prototype through context keys", async () => {
    const body = `{"accountId":"proto4","survey":{"answers":${JSON.stringify(VALID_ANSWERS)}},"context":{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}}`;
    const res = await post("/v1/route", body);
    expect([200, 422]).toContain(res.status);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
  it("answers an array where the survey object is expected with 422 at survey", async () => {
    const p = await problemOf(
      await post("/v1/route", JSON.stringify({ accountId: "arr", survey: [VALID_ANSWERS] })),
      422,
      "validation_failed",
    );
    expect((p.errors as { path: string }[])[0]?.path).toBe("survey");
  });
  it("answers an array where answers are expected with 422 at survey.answers", async () => {
    const p = await problemOf(
      await post("/v1/route", JSON.stringify({ accountId: "arr", survey: { answers: [1, 2] } })),
      422,
      "validation_failed",
    );
    expect((p.errors as { path: string }[])[0]?.path).toMatch(/^survey\.answers/);
  });
  it("takes the last of duplicate JSON keys, like JSON.parse", async () => {
    const body = `{"accountId":"dupkey-a","accountId":"bad id!","survey":{"answers":${JSON.stringify(VALID_ANSWERS)}}}`;
    const p = await problemOf(await post("/v1/route", body), 422, "validation_failed");
    expect((p.errors as { path: string }[])[0]?.path).toBe("accountId");
  });
});

describe("ids", () => {
  // "." and ".." fit the character class but are path segments no client can address.
  const bad = ["", "a b", "é", "acme/x", "x".repeat(129), "a\u0000b", "😀", "a#b", "a%2Fb", ".", ".."];
  it("answers every malformed accountId in a /v1/route body with 422 at accountId", async () => {
    for (const id of bad) {
      const p = await problemOf(
        await post("/v1/route", JSON.stringify({ accountId: id, survey: { answers: VALID_ANSWERS } })),
        422,
        "validation_failed",
      );
      expect((p.errors as { path: string }[])[0]?.path).toBe("accountId");
    }
  });
  it("answers every malformed userId in a /v1/route body with 422 at userId", async () => {
    for (const id of bad) {
      const p = await problemOf(
        await post(
          "/v1/route",
          JSON.stringify({ accountId: "ok", userId: id, survey: { answers: VALID_ANSWERS } }),
        ),
        422,
        "validation_failed",
      );
      expect((p.errors as { path: string }[])[0]?.path).toBe("userId");
    }
  });
  it("accepts ids made of dots other than . and .., and reads them back by path", async () => {
    for (const id of ["...", ".a", "a.."]) {
      const res = await post(
        "/v1/route",
        JSON.stringify({ accountId: id, survey: { answers: VALID_ANSWERS } }),
      );
      expect(res.status).toBe(200);
      const g = await t.app.request(`/v1/accounts/${id}`, {
        headers: { authorization: `Bearer ${t.tokens.api}` },
      });
      expect(g.status).toBe(200);
      expect((await g.json()).accountId).toBe(id);
    }
  });
  it("accepts an id of exactly 128 allowed characters, with every allowed symbol", async () => {
    const id = `A.z_0:9@-${"x".repeat(119)}`;
    expect(id.length).toBe(128);
    const res = await post(
      "/v1/route",
      JSON.stringify({ accountId: id, userId: id, survey: { answers: VALID_ANSWERS } }),
    );
    expect(res.status).toBe(200);
    expect((await res.json()).accountId).toBe(id);
  });
  it("answers malformed path ids with 422 on GET, events, outcomes and DELETE", async () => {
    for (const raw of ["%C3%A9", "a%20b", "x".repeat(129), "a%23b", "%F0%9F%98%80"]) {
      const g = await t.app.request(`/v1/accounts/${raw}`, {
        headers: { authorization: `Bearer ${t.tokens.api}` },
      });
      await problemOf(g, 422, "validation_failed");
      await problemOf(
        await post(`/v1/accounts/${raw}/events`, JSON.stringify({ type: "x" })),
        422,
        "validation_failed",
      );
      await problemOf(
        await post(`/v1/accounts/${raw}/outcomes`, JSON.stringify({ type: "activated" })),
        422,
        "validation_failed",
      );
      const d = await t.app.request(`/v1/accounts/${raw}`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${t.tokens.admin}` },
      });
      await problemOf(d, 422, "validation_failed");
    }
  });
  it("decodes a percent-encoded valid id in the path to the same account", async () => {
    const id = uniq("pct:x@y");
    const r = await post("/v1/route", JSON.stringify({ accountId: id, survey: { answers: VALID_ANSWERS } }));
    expect(r.status).toBe(200);
    const enc = id.replace(":", "%3A").replace("@", "%40");
    const g = await t.app.request(`/v1/accounts/${enc}`, {
      headers: { authorization: `Bearer ${t.tokens.api}` },
    });
    expect(g.status).toBe(200);
    expect((await g.json()).accountId).toBe(id);
  });
  it("answers a malformed userId in an event body and in an outcome body with 422", async () => {
    const id = uniq("evid");
    await post("/v1/route", JSON.stringify({ accountId: id, survey: { answers: VALID_ANSWERS } }));
    const e = await problemOf(
      await post(`/v1/accounts/${id}/events`, JSON.stringify({ type: "x", userId: "a b" })),
      422,
      "validation_failed",
    );
    expect((e.errors as { path: string }[])[0]?.path).toBe("userId");
    const o = await problemOf(
      await post(`/v1/accounts/${id}/outcomes`, JSON.stringify({ type: "activated", userId: "é" })),
      422,
      "validation_failed",
    );
    expect((o.errors as { path: string }[])[0]?.path).toBe("userId");
  });
  it("answers a very long URL with 404 or 422, never 500", async () => {
    const g = await t.app.request(`/v1/accounts/${"a".repeat(20_000)}`, {
      headers: { authorization: `Bearer ${t.tokens.api}` },
    });
    expect([404, 414, 422]).toContain(g.status);
  });
});

describe("auth", () => {
  it("accepts the bearer scheme case-insensitively and answers other schemes with 401", async () => {
    const ok = await t.app.request("/v1/route", {
      method: "POST",
      headers: { authorization: `bearer ${t.tokens.api}`, "content-type": "application/json" },
      body: routeBody(),
    });
    expect(ok.status).toBe(200);
    for (const h of [
      `Basic ${btoa(`x:${t.tokens.api}`)}`,
      `Token ${t.tokens.api}`,
      t.tokens.api,
      "Bearer",
      "Bearer ",
    ]) {
      const res = await t.app.request("/v1/route", {
        method: "POST",
        headers: { authorization: h, "content-type": "application/json" },
        body: routeBody(),
      });
      await problemOf(res, 401, "unauthorized");
    }
  });
  it("answers the public key on GET /v1/accounts/:id with 403", async () => {
    const g = await t.app.request("/v1/accounts/acme", {
      headers: { authorization: `Bearer ${t.tokens.public}` },
    });
    await problemOf(g, 403, "forbidden");
  });
  it("answers the public key and the api token on DELETE with 403", async () => {
    for (const tok of [t.tokens.public, t.tokens.api]) {
      const d = await t.app.request("/v1/accounts/acme", {
        method: "DELETE",
        headers: { authorization: `Bearer ${tok}` },
      });
      await problemOf(d, 403, "forbidden");
    }
  });
  it("accepts the public key on events and outcomes", async () => {
    const id = uniq("pk");
    await post("/v1/route", JSON.stringify({ accountId: id, survey: { answers: VALID_ANSWERS } }));
    expect(
      (await post(`/v1/accounts/${id}/events`, JSON.stringify({ type: "x" }), {}, t.tokens.public)).status,
    ).toBe(202);
    expect(
      (await post(`/v1/accounts/${id}/outcomes`, JSON.stringify({ type: "activated" }), {}, t.tokens.public))
        .status,
    ).toBe(202);
  });
  it("answers the public key on admin endpoints with 403", async () => {
    const g = await t.app.request("/v1/admin/rules", {
      headers: { authorization: `Bearer ${t.tokens.public}` },
    });
    await problemOf(g, 403, "forbidden");
  });
  it("answers a missing token on GET /v1/accounts/:id with 401 before the id check", async () => {
    await problemOf(await t.app.request("/v1/accounts/a%20b"), 401, "unauthorized");
  });
});

describe("405, HEAD and GET with a body", () => {
  it("answers every public path with a wrong method with 405 and allow", async () => {
    const cases: [string, string, string][] = [
      ["GET", "/v1/route", "POST"],
      ["PUT", "/v1/handover", "POST"],
      ["GET", "/v1/handover/hubspot", "POST"],
      ["GET", "/v1/handover/salesforce", "POST"],
      ["POST", "/v1/accounts/acme", "GET, HEAD, DELETE"],
      ["GET", "/v1/accounts/acme/events", "POST"],
      ["PATCH", "/v1/accounts/acme/outcomes", "POST"],
      ["POST", "/healthz", "GET, HEAD"],
    ];
    for (const [method, path, allow] of cases) {
      const res = await t.app.request(path, { method });
      const p = await problemOf(res, 405, "method_not_allowed");
      expect(p).toBeTruthy();
      expect(new Set(res.headers.get("allow")?.split(/,\s*/))).toEqual(new Set(allow.split(", ")));
    }
  });
  it("answers HEAD on /v1/accounts/:id like GET, without a body", async () => {
    const id = uniq("head");
    await post("/v1/route", JSON.stringify({ accountId: id, survey: { answers: VALID_ANSWERS } }));
    const res = await t.app.request(`/v1/accounts/${id}`, {
      method: "HEAD",
      headers: { authorization: `Bearer ${t.tokens.api}` },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    const un = await t.app.request(`/v1/accounts/${id}`, { method: "HEAD" });
    expect(un.status).toBe(401);
  });
  it("answers a GET with a body over real HTTP like a GET, ignoring the body", async () => {
    const id = uniq("getbody");
    await post("/v1/route", JSON.stringify({ accountId: id, survey: { answers: VALID_ANSWERS } }));
    const res = await raw(
      "GET",
      `/v1/accounts/${id}`,
      { authorization: `Bearer ${t.tokens.api}` },
      "{not json",
    );
    expect(res).toMatchObject({ status: 200 });
    expect(JSON.parse(res.body).accountId).toBe(id);
  });
  it("answers a 16 KiB URL over real HTTP with a problem, never a 500", async () => {
    const res = await raw("GET", `/v1/accounts/${"a".repeat(16_000)}`, {
      authorization: `Bearer ${t.tokens.api}`,
    });
    expect([404, 414, 422, 431]).toContain(res.status);
  });
  it("answers OPTIONS without CORS with 405 and allow, not 404 or 500", async () => {
    const res = await t.app.request("/v1/route", { method: "OPTIONS" });
    await problemOf(res, 405, "method_not_allowed");
    expect(res.headers.get("allow")).toBe("POST");
  });
  it("answers a trailing slash on every public path with 404 problem+json", async () => {
    for (const path of ["/v1/route/", "/v1/handover/", "/v1/accounts/acme/", "/v1/accounts/acme/events/"]) {
      await problemOf(await t.app.request(path, { method: "POST" }), 404, "not_found");
    }
  });
});

describe("x-request-id", () => {
  it("replaces an incoming id with a disallowed character or over 128 chars", async () => {
    for (const bad of ["a b", "x".repeat(129), "a/b", "é", "a:b"]) {
      const res = await t.app.request("/v1/route", { method: "POST", headers: { "x-request-id": bad } });
      const id = res.headers.get("x-request-id");
      expect(id).not.toBe(bad);
      expect(id).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
      const body = await res.json();
      expect(body.requestId).toBe(id);
    }
  });
  it("keeps an id of exactly 128 allowed characters on a 200 and a problem", async () => {
    const rid = `a.b_c-${"z".repeat(122)}`;
    const ok = await post("/v1/route", routeBody(), { "x-request-id": rid });
    expect(ok.headers.get("x-request-id")).toBe(rid);
    const bad = await post("/v1/route", "{", { "x-request-id": rid });
    expect(bad.headers.get("x-request-id")).toBe(rid);
    expect((await bad.json()).requestId).toBe(rid);
  });
  it("carries the id on 202, 204 and the 405 answers", async () => {
    const id = uniq("rid");
    await post("/v1/route", JSON.stringify({ accountId: id, survey: { answers: VALID_ANSWERS } }));
    const e = await post(`/v1/accounts/${id}/events`, JSON.stringify({ type: "x" }), {
      "x-request-id": "rid-e",
    });
    expect(e.headers.get("x-request-id")).toBe("rid-e");
    const d = await t.app.request(`/v1/accounts/${id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${t.tokens.admin}`, "x-request-id": "rid-d" },
    });
    expect(d.status).toBe(204);
    expect(d.headers.get("x-request-id")).toBe("rid-d");
  });
});

describe("the check order, more faults at once", () => {
  it("answers 413 before 415 before 400 before 422 on events with a bad path id", async () => {
    const big = "x".repeat(65 * 1024);
    await problemOf(
      await post("/v1/accounts/a%20b/events", big, { "content-type": "text/plain" }),
      413,
      "payload_too_large",
    );
    await problemOf(
      await post("/v1/accounts/a%20b/events", "{", { "content-type": "text/plain" }),
      415,
      "unsupported_media_type",
    );
    await problemOf(await post("/v1/accounts/a%20b/events", "{"), 400, "bad_request");
    await problemOf(await post("/v1/accounts/a%20b/events", "{}"), 422, "validation_failed");
  });
  it("answers 413 before 415 before 400 before 422 on outcomes with a bad path id", async () => {
    const big = "x".repeat(65 * 1024);
    await problemOf(
      await post("/v1/accounts/a%20b/outcomes", big, { "content-type": "text/plain" }),
      413,
      "payload_too_large",
    );
    await problemOf(
      await post("/v1/accounts/a%20b/outcomes", "{", { "content-type": "text/plain" }),
      415,
      "unsupported_media_type",
    );
    await problemOf(await post("/v1/accounts/a%20b/outcomes", "{"), 400, "bad_request");
  });
  it("answers 405 before 401 on a known path with a wrong method and no token", async () => {
    await problemOf(
      await t.app.request("/v1/accounts/acme/events", { method: "GET" }),
      405,
      "method_not_allowed",
    );
  });
  it("answers 401 before 413 on events", async () => {
    const res = await t.app.request("/v1/accounts/acme/events", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "x".repeat(65 * 1024),
    });
    await problemOf(res, 401, "unauthorized");
  });
});
