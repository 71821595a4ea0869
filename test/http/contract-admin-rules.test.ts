import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { buildTestApp, type TestApp, VALID_ANSWERS } from "../support/app.js";

let t: TestApp;
// biome-ignore lint/suspicious/noExplicitAny: response bodies are read loosely and asserted on
type Loose = any;

async function req(
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Loose; headers: Headers; text: string }> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${opts.token ?? t.tokens.admin}`,
    ...opts.headers,
  };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await t.app.request(path, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  let body: Loose;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, body, headers: res.headers, text };
}

beforeAll(async () => {
  t = await buildTestApp({ redisUrl: inject("redisUrl") });
});
afterAll(async () => {
  await t?.close();
});

/** The active ruleset with one extra top-priority rule for teams of at least `n`. */
async function withRule(flow: string, n: number) {
  const active = await req("GET", "/v1/admin/rules");
  const files = { ...active.body.ruleset.files };
  files["routing/00-contract.json"] = {
    rules: [
      {
        name: `contract-${n}`,
        priority: 1000,
        conditions: {
          all: [{ fact: "survey", path: "$.teamSize", operator: "greaterThanInclusive", value: n }],
        },
        event: { type: "route", params: { flow } },
      },
    ],
  };
  return { files };
}

describe("Admin: rules and decisions (CONTRACT.md)", () => {
  it('answers GET /v1/admin/rules with { version, hash, publishedAt, author, message, ruleset } and ETag "<version>"', async () => {
    const res = await req("GET", "/v1/admin/rules");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      version: expect.any(Number),
      hash: expect.any(String),
      publishedAt: expect.any(String),
      author: expect.any(String),
      message: expect.any(String),
      ruleset: { files: expect.any(Object) },
    });
    expect(res.headers.get("etag")).toBe(`"${res.body.version}"`);
    expect(Number.isNaN(Date.parse(res.body.publishedAt))).toBe(false);
  });

  it("holds exactly the RULES_DIR files: no schema/ files and no $schema keys", async () => {
    const { body } = await req("GET", "/v1/admin/rules");
    const paths = Object.keys(body.ruleset.files);
    expect(paths).toContain("settings.json");
    expect(paths).toContain("survey.json");
    expect(paths.some((p) => p.startsWith("schema/"))).toBe(false);
    for (const p of paths) {
      const f = body.ruleset.files[p];
      if (f && typeof f === "object" && !Array.isArray(f)) expect([p, "$schema" in f]).toEqual([p, false]);
    }
  });

  it("takes a ruleset body up to 1 MiB on the ruleset calls, and 64 KiB everywhere else", async () => {
    const doc = (await req("GET", "/v1/admin/rules")).body.ruleset as { files: Record<string, unknown> };
    // Over 64 KiB: the shipped rules with long (legal) rule descriptions.
    const big = structuredClone(doc) as { files: Record<string, { rules?: { description?: string }[] }> };
    for (const [file, content] of Object.entries(big.files))
      if (file.startsWith("routing/")) for (const r of content.rules ?? []) r.description = "x".repeat(1900);
    const padded = JSON.stringify({ ruleset: big }).length;
    expect(padded).toBeGreaterThan(64 * 1024);
    const ok = await req("POST", "/v1/admin/rules/validate", { body: { ruleset: big } });
    expect(ok.status).not.toBe(413);
    const huge = await req("POST", "/v1/admin/rules/validate", {
      body: { ruleset: { files: { "notes.json": { x: "y".repeat(1024 * 1024) } } } },
    });
    expect([huge.status, huge.body.code]).toEqual([413, "payload_too_large"]);
    const route = await req("POST", "/v1/route", {
      token: t.tokens.api,
      body: { accountId: "big", survey: { answers: { notes: "z".repeat(70 * 1024) } } },
    });
    expect(route.status).toBe(413);
  });

  it("publishes with a bare or a quoted If-Match, refuses a stale one with 409 and an invalid one with 422, leaving the active version unchanged", async () => {
    const v0 = (await req("GET", "/v1/admin/rules")).body.version as number;
    const bare = await req("PUT", "/v1/admin/rules", {
      body: { ruleset: await withRule("fast-track", 900), message: "bare if-match" },
      headers: { "if-match": String(v0) },
    });
    expect(bare).toMatchObject({ status: 200, body: { version: v0 + 1 } });
    // Read your writes: the publishing process decides with the new version straight away.
    const routed = await req("POST", "/v1/route", {
      token: t.tokens.api,
      body: { accountId: `ryw-${v0}`, survey: { answers: VALID_ANSWERS } },
    });
    expect(routed.body.ruleset).toEqual({ version: v0 + 1 });
    const quoted = await req("PUT", "/v1/admin/rules", {
      body: { ruleset: await withRule("fast-track", 901), message: "quoted if-match" },
      headers: { "if-match": `"${v0 + 1}"` },
    });
    expect(quoted).toMatchObject({ status: 200, body: { version: v0 + 2 } });

    const stale = await req("PUT", "/v1/admin/rules", {
      body: { ruleset: await withRule("fast-track", 902), message: "stale" },
      headers: { "if-match": `"${v0}"` },
    });
    expect([stale.status, stale.body.code]).toEqual([409, "conflict"]);
    expect(stale.headers.get("content-type")).toContain("application/problem+json");
    // If-Match compares strongly: a weak tag of the active version does not match.
    const weak = await req("PUT", "/v1/admin/rules", {
      body: { ruleset: await withRule("fast-track", 902), message: "weak" },
      headers: { "if-match": `W/"${v0 + 2}"` },
    });
    expect([weak.status, weak.body.code]).toEqual([409, "conflict"]);
    // …and exactly: `02` or an unbalanced quote is another tag, not the version.
    for (const tag of [`0${v0 + 2}`, `"${v0 + 2}`]) {
      const other = await req("PUT", "/v1/admin/rules", {
        body: { ruleset: await withRule("fast-track", 902), message: "other tag" },
        headers: { "if-match": tag },
      });
      expect([other.status, other.body.code]).toEqual([409, "conflict"]);
    }

    const invalid = await req("PUT", "/v1/admin/rules", {
      body: { ruleset: await withRule("no-such-flow", 903), message: "invalid" },
      headers: { "if-match": `"${v0 + 2}"` },
    });
    expect([invalid.status, invalid.body.code]).toEqual([422, "validation_failed"]);
    expect(invalid.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          file: "routing/00-contract.json",
          path: expect.any(String),
          message: expect.any(String),
        }),
      ]),
    );
    const after = await req("GET", "/v1/admin/rules");
    expect(after.body.version).toBe(v0 + 2);
    expect(after.headers.get("etag")).toBe(`"${v0 + 2}"`);
  });

  it("rolls back by publishing a new version equal to the old one, listed newest first", async () => {
    const before = (await req("GET", "/v1/admin/rules")).body;
    const old = (await req("GET", "/v1/admin/rules/versions/1")).body;
    expect((await req("GET", "/v1/admin/rules/versions/1")).headers.get("etag")).toBe('"1"');
    const rb = await req("POST", "/v1/admin/rules/rollback", { body: { version: 1 } });
    expect(rb).toMatchObject({ status: 200, body: { version: before.version + 1 } });
    const now = (await req("GET", "/v1/admin/rules")).body;
    expect(now.version).toBe(before.version + 1);
    expect(now.ruleset).toEqual(old.ruleset);
    expect(now.hash).toBe(old.hash);
    const list = (await req("GET", "/v1/admin/rules/versions")).body.versions.map(
      (v: { version: number }) => v.version,
    );
    expect(list[0]).toBe(now.version);
    expect([...list].sort((a, b) => b - a)).toEqual(list);
    expect((await req("POST", "/v1/admin/rules/rollback", { body: { version: 9999 } })).status).toBe(404);
  });

  it("stores a decision record { decisionId, at, accountId, userId?, facts, ruleset: { version }, flow, reasons }", async () => {
    const routed = await req("POST", "/v1/route", {
      token: t.tokens.api,
      body: { accountId: "contract-dec", userId: "u_1", survey: { answers: VALID_ANSWERS } },
    });
    expect(routed.status).toBe(200);
    const rec = await req("GET", `/v1/admin/decisions/${routed.body.decisionId}`);
    expect(rec.status).toBe(200);
    expect(rec.headers.get("content-type")).toContain("application/json");
    expect(rec.body).toMatchObject({
      decisionId: routed.body.decisionId,
      at: expect.any(String),
      accountId: "contract-dec",
      userId: "u_1",
      facts: expect.objectContaining({ survey: expect.any(Object) }),
      ruleset: { version: routed.body.ruleset.version },
      flow: routed.body.flow,
      reasons: expect.any(Array),
    });
    expect((await req("GET", "/v1/admin/decisions/dec_nope")).status).toBe(404);
  });

  it("keeps audit entries shaped { at, actor, action, version?, summary }", async () => {
    const { body } = await req("GET", "/v1/admin/audit?limit=50");
    expect(body.entries.length).toBeGreaterThan(0);
    for (const e of body.entries) {
      expect(Object.keys(e).every((k) => ["at", "actor", "action", "version", "summary"].includes(k))).toBe(
        true,
      );
      expect(e).toMatchObject({
        at: expect.any(String),
        actor: expect.any(String),
        action: expect.any(String),
        summary: expect.any(String),
      });
      if ("version" in e) expect(Number.isInteger(e.version)).toBe(true);
    }
    expect(body.entries.some((e: { action: string }) => e.action === "rollback")).toBe(true);
  });

  it("answers retry and cancel with 202 { instanceId, status } or 409 when the instance is not failed / not active", async () => {
    const routed = await req("POST", "/v1/route", {
      token: t.tokens.api,
      body: { accountId: "contract-inst", survey: { answers: VALID_ANSWERS } },
    });
    const base = `/v1/admin/accounts/contract-inst/instances/${routed.body.instanceId}`;
    const retry = await req("POST", `${base}/retry`);
    expect([retry.status, retry.body.code]).toEqual([409, "conflict"]);
    const cancel = await req("POST", `${base}/cancel`);
    expect(cancel).toMatchObject({
      status: 202,
      body: { instanceId: routed.body.instanceId, status: "cancelled" },
    });
    expect(Object.keys(cancel.body).sort()).toEqual(["instanceId", "status"]);
    const again = await req("POST", `${base}/cancel`);
    expect([again.status, again.body.code]).toEqual([409, "conflict"]);
    expect((await req("POST", "/v1/admin/accounts/contract-inst/instances/fi_nope/cancel")).status).toBe(404);
  });
});

describe("operational endpoints (CONTRACT.md Endpoints)", () => {
  it("answers /healthz 200 {status: ok} and /readyz 200 {status: ready} without auth", async () => {
    const h = await t.app.request("/healthz");
    expect([h.status, await h.json()]).toEqual([200, { status: "ok" }]);
    const r = await t.app.request("/readyz");
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: "ready" });
  });

  it("serves router_* metrics for requests, decisions, queue depth and jobs, with no account or user id in a label", async () => {
    await req("POST", "/v1/route", {
      token: t.tokens.api,
      body: { accountId: "metrics-acct-zq7", userId: "metrics-user-zq7", survey: { answers: VALID_ANSWERS } },
    });
    await req("GET", "/v1/accounts/metrics-acct-zq7", { token: t.tokens.api });
    await req("GET", "/v1/accounts/metrics-acct-zq7/nothing-here-zq7", { token: t.tokens.api });
    await req("DELETE", "/v1/route", { token: t.tokens.api }); // 405 on a known path
    const res = await t.app.request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    for (const name of [
      "router_http_requests_total",
      "router_http_request_duration_seconds",
      "router_decisions_total",
      "router_queue_depth",
      "router_jobs_total",
    ])
      expect(text).toContain(`# TYPE ${name}`);
    expect(text).toMatch(/router_decisions_total\{flow="[^"]+",rule="[^"]+"\}/);
    expect(text).toMatch(/router_http_requests_total\{[^}]*route="\/v1\/route"/);
    expect(text).toMatch(/router_http_requests_total\{route="\/v1\/route",method="DELETE",status="405"\}/);
    expect(text).not.toContain("zq7");
    const own = text.split("\n").filter((l) => /^[a-z_]+[{ ]/.test(l) && !l.startsWith("#"));
    for (const l of own) if (!/^(process_|nodejs_)/.test(l)) expect(l.startsWith("router_"), l).toBe(true);
  });

  it("serves OpenAPI 3.1 at /openapi.json and a rendered reference at /docs, without auth", async () => {
    const o = await t.app.request("/openapi.json");
    expect(o.status).toBe(200);
    const doc = (await o.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\.1\./);
    for (const p of ["/v1/route", "/v1/admin/rules", "/v1/admin/rules/rollback", "/healthz", "/readyz"])
      expect(Object.keys(doc.paths)).toContain(p);
    const d = await t.app.request("/docs");
    expect(d.status).toBe(200);
    expect(d.headers.get("content-type")).toContain("text/html");
  });
});
