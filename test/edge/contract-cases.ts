import { expect, it } from "vitest";
import { canonicalHandoverExample } from "../../src/core/handover/schema.js";
import { parseWebhookSecrets, webhookHeaders } from "../../src/core/signing/standard-webhooks.js";
import { API_TOKEN, type Entry, WEBHOOK_SECRET } from "./stack.js";

/** Survey answers the shipped rules route to `fast-track` (a small, experienced, self-serve team). */
export const FAST_TRACK_ANSWERS = {
  teamSize: 10,
  priorExperience: "some",
  goLiveTimeline: "within_month",
  supportStyle: "self_serve",
};

let seq = 0;
/** A fresh account id per case and entry, so cases and entries never share state. */
export const freshAccount = (entry: Entry, what: string): string =>
  `${entry.name}-${what}-${Date.now().toString(36)}-${(seq++).toString(36)}`;

export async function call(
  entry: Entry,
  method: string,
  path: string,
  init: { body?: unknown; raw?: string; token?: string | null; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: unknown; text: string }> {
  const headers: Record<string, string> = { ...init.headers };
  const token = init.token === undefined ? API_TOKEN : init.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined = init.raw;
  if (init.body !== undefined && method !== "GET" && method !== "HEAD") body = JSON.stringify(init.body);
  if (body !== undefined) headers["content-type"] ??= "application/json";
  const res = await fetch(`${entry.url}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export function route(entry: Entry, accountId: string, extra: Record<string, unknown> = {}) {
  return call(entry, "POST", "/v1/route", {
    body: { accountId, userId: "u_1", survey: { answers: FAST_TRACK_ANSWERS }, ...extra },
  });
}

export async function signedHandover(
  entry: Entry,
  accountId: string,
  webhookId: string,
  secret = WEBHOOK_SECRET,
) {
  const raw = JSON.stringify({ ...canonicalHandoverExample, accountId });
  const parsed = parseWebhookSecrets(secret);
  if (!parsed.ok) throw new Error("test webhook secret does not parse");
  const headers = await webhookHeaders({
    id: webhookId,
    timestamp: new Date(),
    body: raw,
    secret: parsed.value[0]!,
  });
  return call(entry, "POST", "/v1/handover", { raw, token: null, headers });
}

/** Expects an RFC 9457 body with our shape, its requestId equal to the header. */
export function expectProblem(
  res: { status: number; headers: Headers; body: unknown },
  status: number,
  code: string,
) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code, type: `/problems/${code}` });
  expect((res.body as { requestId: string }).requestId).toBe(res.headers.get("x-request-id"));
}

/**
 * The HTTP contract both entries serve identically (CONTRACT.md "Both entries serve …").
 * Registered once per entry; `entry()` is read when a case runs.
 */
export function contractCases(entry: () => Entry): void {
  it("answers /healthz with ok and a request id", async () => {
    const res = await call(entry(), "GET", "/healthz", { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it("answers /readyz ready once Redis answers and the published ruleset loads", async () => {
    const res = await call(entry(), "GET", "/readyz", { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ready", checks: { redis: "ok", rules: "ok" } });
  });

  it("serves an OpenAPI 3.1 document that describes /v1/route and /v1/handover", async () => {
    const res = await call(entry(), "GET", "/openapi.json", { token: null });
    expect(res.status).toBe(200);
    const doc = res.body as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\.1/);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/v1/route", "/v1/handover"]));
  });

  it("keeps a well-formed incoming x-request-id", async () => {
    const res = await call(entry(), "GET", "/healthz", {
      token: null,
      headers: { "x-request-id": "trace.abc-123" },
    });
    expect(res.headers.get("x-request-id")).toBe("trace.abc-123");
  });

  it("answers an unknown path with 404 not_found problem+json", async () => {
    expectProblem(await call(entry(), "GET", "/v1/nothing-here"), 404, "not_found");
  });

  it("answers a known path with the wrong method with 405 and an allow header", async () => {
    const res = await call(entry(), "GET", "/v1/route");
    expectProblem(res, 405, "method_not_allowed");
    expect(res.headers.get("allow")).toBe("POST");
  });

  it("refuses /v1/route without a bearer token with 401", async () => {
    const res = await call(entry(), "POST", "/v1/route", { token: null, body: {} });
    expectProblem(res, 401, "unauthorized");
  });

  it("refuses /v1/route with malformed JSON with 400, in the same words on both entries", async () => {
    const res = await call(entry(), "POST", "/v1/route", { raw: "{nope" });
    expectProblem(res, 400, "bad_request");
    // Node's and workerd's V8 word JSON errors differently; the detail must not depend on it.
    expect((res.body as { detail: string }).detail).toBe(
      "Malformed JSON: Expected property name or '}' in JSON at position 1",
    );
  });

  it("names the wrong survey answer in a 422", async () => {
    const res = await call(entry(), "POST", "/v1/route", {
      body: { accountId: "acme", survey: { answers: { ...FAST_TRACK_ANSWERS, teamSize: "ten" } } },
    });
    expectProblem(res, 422, "validation_failed");
    expect((res.body as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain(
      "survey.answers.teamSize",
    );
  });

  it("routes a small self-serve team to fast-track and returns the same instance when the same user routes twice", async () => {
    const accountId = freshAccount(entry(), "route");
    const first = await route(entry(), accountId);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      accountId,
      userId: "u_1",
      reused: false,
      flow: { id: "fast-track" },
      step: { id: "welcome-email", type: "action" },
    });
    const b = first.body as { decisionId: string; instanceId: string };
    expect(b.decisionId).toMatch(/^dec_/);
    const again = await route(entry(), accountId);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ instanceId: b.instanceId, reused: true, flow: { id: "fast-track" } });
  });

  it("accepts a signed handover with 202 and answers a repeat of the same webhook-id as a duplicate", async () => {
    const accountId = freshAccount(entry(), "handover");
    const webhookId = `msg_${accountId}`;
    const first = await signedHandover(entry(), accountId, webhookId);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ accountId, duplicate: false });
    const { handoverId } = first.body as { handoverId: string };
    const again = await signedHandover(entry(), accountId, webhookId);
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ handoverId, accountId, duplicate: true });
  });

  it("refuses a handover signed with another secret with 401", async () => {
    const accountId = freshAccount(entry(), "badsig");
    const res = await signedHandover(
      entry(),
      accountId,
      "msg_bad",
      "whsec_c29tZW9uZS1lbHNlcy1zZWNyZXQtMDEyMzQ1",
    );
    expectProblem(res, 401, "unauthorized");
  });

  it("shows a routed account's instance, current step and history", async () => {
    const accountId = freshAccount(entry(), "account");
    const routed = (await route(entry(), accountId)).body as { instanceId: string };
    const res = await call(entry(), "GET", `/v1/accounts/${accountId}`);
    expect(res.status).toBe(200);
    const body = res.body as {
      accountId: string;
      instances: { instanceId: string; flow: { id: string }; history: unknown[] }[];
    };
    expect(body.accountId).toBe(accountId);
    expect(body.instances).toHaveLength(1);
    expect(body.instances[0]).toMatchObject({ instanceId: routed.instanceId, flow: { id: "fast-track" } });
    expect(body.instances[0]?.history.length).toBeGreaterThan(0);
  });

  it("answers 404 for an account it has never seen", async () => {
    expectProblem(
      await call(entry(), "GET", `/v1/accounts/${freshAccount(entry(), "never")}`),
      404,
      "not_found",
    );
  });

  it("records an event nothing waits for as not applied, and its repeat as a duplicate", async () => {
    const accountId = freshAccount(entry(), "event");
    await route(entry(), accountId);
    const event = { type: "nobody.waits", eventId: `evt-${accountId}` };
    const first = await call(entry(), "POST", `/v1/accounts/${accountId}/events`, { body: event });
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ applied: false, duplicate: false });
    const again = await call(entry(), "POST", `/v1/accounts/${accountId}/events`, { body: event });
    expect(again.body).toEqual({ applied: false, duplicate: true });
  });

  it("accepts an outcome once per outcomeId", async () => {
    const accountId = freshAccount(entry(), "outcome");
    await route(entry(), accountId);
    const outcome = { type: "nps", score: 9, outcomeId: `nps-${accountId}` };
    const first = await call(entry(), "POST", `/v1/accounts/${accountId}/outcomes`, { body: outcome });
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ outcomeId: outcome.outcomeId, accepted: true, duplicate: false });
    const again = await call(entry(), "POST", `/v1/accounts/${accountId}/outcomes`, { body: outcome });
    expect(again.body).toEqual({ outcomeId: outcome.outcomeId, accepted: true, duplicate: true });
  });
}
