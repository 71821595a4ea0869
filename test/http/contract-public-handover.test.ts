import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { signHubSpotV3 } from "../../src/core/signing/hubspot.js";
import { parseWebhookSecrets, webhookHeaders } from "../../src/core/signing/standard-webhooks.js";
import { bankHandover, fastTrackAnswers } from "../fixtures/answers.js";
import { buildTestApp, type TestApp } from "../support/app.js";

const OLD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NEW_SECRET = `whsec_${Buffer.from("a-rotated-secret-of-32-bytes-xyz").toString("base64")}`;
const OTHER_SECRET = `whsec_${Buffer.from("a-secret-nobody-configured-12345").toString("base64")}`;
const SF_ORG = "00D5e000000ABCDEAA";
const SF_TOKEN = "sf-shared-token-123";

let t: TestApp;
let bare: TestApp;
beforeAll(async () => {
  t = await buildTestApp({
    redisUrl: inject("redisUrl"),
    env: {
      HANDOVER_WEBHOOK_SECRET: `${OLD_SECRET} ${NEW_SECRET}`,
      HUBSPOT_CLIENT_SECRET: "hubspot-client-secret-for-tests",
      SALESFORCE_ORG_IDS: SF_ORG,
      SALESFORCE_TOKEN: SF_TOKEN,
    },
  });
  bare = await buildTestApp({ redisUrl: inject("redisUrl") });
});
afterAll(async () => {
  await t?.close();
  await bare?.close();
});

const uniq = (p: string) => `${p}-${Math.random().toString(36).slice(2, 10)}`;
const nowS = () => Math.floor(Date.now() / 1000);

function secret(text: string) {
  const parsed = parseWebhookSecrets(text);
  if (!parsed.ok) throw new Error("test secret");
  return parsed.value[0]!;
}

async function signed(body: string, opts: { id?: string; ts?: number; with?: string } = {}) {
  return webhookHeaders({
    id: opts.id ?? uniq("msg"),
    timestamp: opts.ts ?? nowS(),
    body,
    secret: secret(opts.with ?? OLD_SECRET),
  });
}

const send = (body: BodyInit, headers: Record<string, string>, app = t) =>
  app.app.request("/v1/handover", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });

async function problem(res: Response, status: number, code: string) {
  const text = await res.text();
  expect({ status: res.status, text }).toMatchObject({ status });
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(text) as { code: string; requestId: string; errors?: { path: string }[] };
  expect(body.code).toBe(code);
  expect(body.requestId).toBe(res.headers.get("x-request-id"));
  return body;
}

const latest = async (accountId: string) =>
  JSON.parse((await t.services.redis.get(t.services.keys.account.handover(accountId))) ?? "null");

describe("Standard Webhooks signatures", () => {
  it("accepts a signature made with any configured secret (rotation)", async () => {
    for (const s of [OLD_SECRET, NEW_SECRET]) {
      const body = JSON.stringify(bankHandover(uniq("rot")));
      expect((await send(body, await signed(body, { with: s }))).status).toBe(202);
    }
  });
  it("accepts a header with several signatures when any one matches, in any position", async () => {
    const body = JSON.stringify(bankHandover(uniq("multi")));
    const id = uniq("msg");
    const ts = nowS();
    const good = (await signed(body, { id, ts }))["webhook-signature"];
    const other = (await signed(body, { id, ts, with: OTHER_SECRET }))["webhook-signature"];
    const headers = { "webhook-id": id, "webhook-timestamp": String(ts) };
    const res = await send(body, { ...headers, "webhook-signature": `v1a,xyz ${other} ${good}` });
    expect(res.status).toBe(202);
  });
  it("answers 401 when only an unconfigured secret signed", async () => {
    const body = JSON.stringify(bankHandover(uniq("unk")));
    await problem(await send(body, await signed(body, { with: OTHER_SECRET })), 401, "unauthorized");
  });
  it("answers 401 for a timestamp just over 5 minutes in the past or the future, and accepts just under", async () => {
    for (const offset of [-301, 301]) {
      const body = JSON.stringify(bankHandover(uniq("ts")));
      await problem(await send(body, await signed(body, { ts: nowS() + offset })), 401, "unauthorized");
    }
    for (const offset of [-290, 290]) {
      const body = JSON.stringify(bankHandover(uniq("ts")));
      expect((await send(body, await signed(body, { ts: nowS() + offset }))).status).toBe(202);
    }
  });
  it("answers 401 when the body was changed after signing (one byte of whitespace)", async () => {
    const body = JSON.stringify(bankHandover(uniq("tamper")));
    await problem(await send(`${body} `, await signed(body)), 401, "unauthorized");
  });
  it("answers 401 for missing or malformed signature headers, as problem+json", async () => {
    const body = JSON.stringify(bankHandover(uniq("hdr")));
    const h = await signed(body);
    await problem(await send(body, {}), 401, "unauthorized");
    await problem(await send(body, { ...h, "webhook-timestamp": "12.5" }), 401, "unauthorized");
    await problem(await send(body, { ...h, "webhook-signature": "v1,not-base64!!" }), 401, "unauthorized");
  });
  it("checks the signature before the media type, and the media type before syntax", async () => {
    const body = "{not json";
    await problem(await send(body, { "content-type": "text/plain" }), 401, "unauthorized");
    await problem(
      await send(body, { ...(await signed(body)), "content-type": "text/plain" }),
      415,
      "unsupported_media_type",
    );
    await problem(await send(body, await signed(body)), 400, "bad_request");
  });
  it("answers 413 with or without content-length before the signature", async () => {
    const big = "x".repeat(65 * 1024);
    await problem(await send(big, {}), 413, "payload_too_large");
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const res = await t.app.request("/v1/handover", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    await problem(res, 413, "payload_too_large");
  });
});

describe("the canonical body", () => {
  async function invalid(mutate: (h: Record<string, unknown>) => void, path: string) {
    const h = bankHandover(uniq("val")) as unknown as Record<string, unknown>;
    mutate(h);
    const body = JSON.stringify(h);
    const p = await problem(await send(body, await signed(body)), 422, "validation_failed");
    expect(p.errors?.map((e) => e.path)).toContain(path);
  }
  type H = ReturnType<typeof bankHandover> & Record<string, unknown>;
  it("answers 422 at the path for a wrong role, region, currency, amount type, sso type, product type", async () => {
    await invalid((h) => ((h as H).contacts[0]!.role = "ceo" as never), "contacts.0.role");
    await invalid((h) => ((h as H).account.region = "EU" as never), "account.region");
    await invalid((h) => ((h as H).deal.currency = "usd"), "deal.currency");
    await invalid((h) => ((h as H).deal.amount = "300000" as never), "deal.amount");
    await invalid((h) => ((h as H).requirements = { sso: "yes" as never }), "requirements.sso");
    await invalid((h) => ((h as H).deal.products = [1] as never), "deal.products.0");
    await invalid(
      (h) => ((h as H).requirements = { integrations: "slack" } as never),
      "requirements.integrations",
    );
  });
  it("answers 422 for a missing required field and for a malformed accountId", async () => {
    await invalid((h) => delete (h as Partial<H>).deal, "deal");
    await invalid((h) => ((h as H).accountId = "acme corp"), "accountId");
    await invalid((h) => ((h as H).accountId = "x".repeat(129)), "accountId");
  });
  it("answers 422 for a closedAt that is neither a date nor a date-time", async () => {
    for (const v of [
      "2025-13-01",
      "31/03/2025",
      "2025-03-31T25:00:00Z",
      "",
      "yesterday",
      "2025-02-30T10:00Z",
      "2025-03-31T17:00:00",
      "2025-03-31T17:00:00+02",
      "2025-03-31T17:00:00+0200",
    ]) {
      await invalid((h) => ((h as H).deal.closedAt = v), "deal.closedAt");
    }
  });
  it("accepts deal.closedAt as a date or a zoned date-time, with or without seconds", async () => {
    for (const v of [
      "2025-03-31",
      "2025-03-31T17:00:00Z",
      "2025-03-31T17:00:00+02:00",
      "2025-03-31T17:00:00.123Z",
      "2025-03-31T17:00Z",
    ]) {
      const h = bankHandover(uniq("closed"));
      h.deal.closedAt = v;
      const body = JSON.stringify(h);
      const res = await send(body, await signed(body));
      expect({ v, status: res.status }).toEqual({ v, status: 202 });
    }
  });
  it("answers 422 for a huge or negative amount and non-integer termMonths", async () => {
    await invalid((h) => ((h as H).deal.amount = -1), "deal.amount");
    await invalid((h) => ((h as H).deal.amount = 1e300), "deal.amount");
    await invalid((h) => ((h as H).deal.termMonths = 1.5), "deal.termMonths");
  });
  it("ignores a __proto__ key in the body or in account: stored without it, nothing polluted", async () => {
    const h = bankHandover(uniq("proto"));
    const body = `{"__proto__":{"x":1},${JSON.stringify(h)
      .slice(1)
      .replace('"account":{', '"account":{"__proto__":{"region":"NA"},')}`;
    expect((await send(body, await signed(body))).status).toBe(202);
    const s = await latest(h.accountId);
    expect(s.account.region).toBe(h.account.region);
    expect(Object.keys(s)).not.toContain("__proto__");
    expect(JSON.stringify(s)).not.toContain("__proto__");
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
  it("ignores fields the contract does not name and stores none of them", async () => {
    const h = { ...bankHandover(uniq("extra")), source: "zapier", owner: { email: "rep@seller.example" } };
    (h.deal as Record<string, unknown>).stage = "closedwon";
    const body = JSON.stringify(h);
    expect((await send(body, await signed(body))).status).toBe(202);
    const s = await latest(h.accountId);
    expect(s.deal.stage).toBeUndefined();
    expect(s.owner).toBeUndefined();
    expect(s.deal.id).toBe(h.deal.id);
  });
  it("answers 422 for a body of null, an array, or a string", async () => {
    for (const body of ["null", "[]", '"x"']) {
      await problem(await send(body, await signed(body)), 422, "validation_failed");
    }
  });
  it("stores strings verbatim (spaces, unicode) and keeps industry as sent", async () => {
    const h = bankHandover(uniq("verbatim"));
    h.account.name = "  Ünïcødé  Corp  ";
    h.account.industry = " Financial   Services ";
    h.contacts[0]!.name = " Dana ";
    const body = JSON.stringify(h);
    expect((await send(body, await signed(body))).status).toBe(202);
    const s = await latest(h.accountId);
    expect(s.account.name).toBe("  Ünïcødé  Corp  ");
    expect(s.account.industry).toBe(" Financial   Services ");
    expect(s.contacts[0].name).toBe(" Dana ");
  });
  it("matches industry on its normalised lower snake case form in the rules", async () => {
    const accountId = uniq("norm");
    const h = bankHandover(accountId);
    h.account.industry = "Financial Services";
    const body = JSON.stringify(h);
    expect((await send(body, await signed(body))).status).toBe(202);
    const res = await t.app.request("/v1/route", {
      method: "POST",
      headers: { authorization: `Bearer ${t.tokens.api}`, "content-type": "application/json" },
      body: JSON.stringify({ accountId, survey: { answers: fastTrackAnswers } }),
    });
    const out = await res.json();
    expect(out.reasons[0].rule).toBe("regulated-industry");
    const dec = await t.app.request(`/v1/admin/decisions/${out.decisionId}`, {
      headers: { authorization: `Bearer ${t.tokens.admin}` },
    });
    const record = await dec.json();
    expect(record.facts.handover.account.industry).toBe("financial_services");
    expect(record.facts.account.industry).toBe("financial_services");
    expect((await latest(accountId)).account.industry).toBe("Financial Services");
  });
});

describe("duplicates", () => {
  it("answers the same webhook-id after a different-id delivery with the original handoverId", async () => {
    const accountId = uniq("dup");
    const body = JSON.stringify(bankHandover(accountId));
    const first = await (await send(body, await signed(body, { id: "msg_a" }))).json();
    await send(body, await signed(body, { id: "msg_b" }));
    const again = await send(body, await signed(body, { id: "msg_a" }));
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ handoverId: first.handoverId, accountId, duplicate: true });
  });
  it("answers a re-signed duplicate (new timestamp, other rotated secret) as a duplicate", async () => {
    const accountId = uniq("dup2");
    const body = JSON.stringify(bankHandover(accountId));
    const first = await (await send(body, await signed(body, { id: "msg_x", ts: nowS() - 200 }))).json();
    const again = await (await send(body, await signed(body, { id: "msg_x", with: NEW_SECRET }))).json();
    expect(again).toEqual({ handoverId: first.handoverId, accountId, duplicate: true });
  });
  it("keeps the webhook-id record for at least 72 hours", async () => {
    const accountId = uniq("ttl");
    const body = JSON.stringify(bankHandover(accountId));
    await send(body, await signed(body, { id: "msg_ttl" }));
    const ttl = await t.services.redis.ttl(t.services.keys.account.webhookSeen(accountId, "sw-msg_ttl"));
    expect(ttl).toBeGreaterThanOrEqual(72 * 3600 - 5);
  });
  it("stores both of two concurrent deliveries with different ids and the same content", async () => {
    const accountId = uniq("same");
    const body = JSON.stringify(bankHandover(accountId));
    const outs = await Promise.all(
      [1, 2, 3].map(async (i) => (await send(body, await signed(body, { id: `msg_${i}` }))).json()),
    );
    expect(outs.map((o) => o.duplicate)).toEqual([false, false, false]);
    expect(new Set(outs.map((o) => o.handoverId)).size).toBe(3);
  });
  it("answers a webhook-id already stored for another account as that duplicate, with no effect", async () => {
    const [a, b] = [uniq("owner"), uniq("other")];
    const first = await (
      await send(
        JSON.stringify(bankHandover(a)),
        await signed(JSON.stringify(bankHandover(a)), { id: "msg_own" }),
      )
    ).json();
    const bodyB = JSON.stringify(bankHandover(b));
    const again = await send(bodyB, await signed(bodyB, { id: "msg_own" }));
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ handoverId: first.handoverId, accountId: a, duplicate: true });
    expect(await t.services.redis.exists(t.services.keys.account.meta(b))).toBe(0);
    // Once the first account is erased, the id starts afresh, and no owner record names it.
    const erased = await t.app.request(`/v1/accounts/${a}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${t.tokens.admin}` },
    });
    expect(erased.status).toBe(204);
    expect(await t.services.redis.get(t.services.keys.global.webhookOwner("sw-msg_own"))).toBeNull();
    const fresh = await (await send(bodyB, await signed(bodyB, { id: "msg_own" }))).json();
    expect(fresh).toMatchObject({ accountId: b, duplicate: false });
    expect(await t.services.redis.get(t.services.keys.global.webhookOwner("sw-msg_own"))).toBe(b);
  });
  it("answers 20 concurrent deliveries of one webhook-id with one original and 19 duplicates", async () => {
    const accountId = uniq("burst");
    const body = JSON.stringify(bankHandover(accountId));
    const headers = await signed(body, { id: "msg_burst" });
    const outs = await Promise.all(
      Array.from({ length: 20 }, async () => (await send(body, headers)).json()),
    );
    expect(outs.filter((o) => !o.duplicate)).toHaveLength(1);
    expect(new Set(outs.map((o) => o.handoverId)).size).toBe(1);
    expect(await t.services.redis.llen(t.services.keys.account.handovers(accountId))).toBe(1);
  });
});

describe("CRM adapters", () => {
  it("answers 503 problem+json on hubspot and salesforce when unconfigured", async () => {
    const hs = await bare.app.request("/v1/handover/hubspot", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    await problem(hs, 503, "unavailable");
    const sf = await bare.app.request("/v1/handover/salesforce?token=x", {
      method: "POST",
      headers: { "content-type": "text/xml" },
      body: "<x/>",
    });
    await problem(sf, 503, "unavailable");
  });
  it("answers salesforce: 401 before 415 before 400, 413 first, as problem+json", async () => {
    const sf = (body: string, token: string, ct: string) =>
      t.app.request(`/v1/handover/salesforce?token=${token}`, {
        method: "POST",
        headers: { "content-type": ct },
        body,
      });
    await problem(await sf("x".repeat(65 * 1024), "nope", "text/plain"), 413, "payload_too_large");
    await problem(await sf("<x", "nope", "text/plain"), 401, "unauthorized");
    await problem(await sf("<x", "", "text/xml"), 401, "unauthorized");
    await problem(await sf("<x", SF_TOKEN, "application/json"), 415, "unsupported_media_type");
    await problem(await sf("<x", SF_TOKEN, "text/xml"), 400, "bad_request");
    await problem(await sf("<a>b</a>", SF_TOKEN, "text/xml"), 400, "bad_request");
  });
  it("answers salesforce with the SOAP notificationsResponse Ack as text/xml", async () => {
    const xml = readFileSync("test/fixtures/salesforce-outbound-batch.xml", "utf8");
    const res = await t.app.request(`/v1/handover/salesforce?token=${SF_TOKEN}`, {
      method: "POST",
      headers: { "content-type": "text/xml; charset=utf-8" },
      body: xml,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/xml/);
    const text = await res.text();
    expect(text).toMatch(/notificationsResponse/);
    expect(text).toMatch(/<Ack>true<\/Ack>/);
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });
  it("answers hubspot 401 for a signature over another URL, and 415 after a good signature with text/plain", async () => {
    const payload = readFileSync("test/fixtures/hubspot-deal.json", "utf8");
    const ts = Date.now();
    const sig = await signHubSpotV3({
      clientSecret: "hubspot-client-secret-for-tests",
      method: "POST",
      uri: "http://localhost/v1/handover/other",
      body: payload,
      timestampMs: ts,
    });
    const bad = await t.app.request("http://localhost/v1/handover/hubspot", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-hubspot-signature-v3": sig,
        "x-hubspot-request-timestamp": String(ts),
      },
      body: payload,
    });
    await problem(bad, 401, "unauthorized");
    const uri = "http://localhost/v1/handover/hubspot";
    const good = await signHubSpotV3({
      clientSecret: "hubspot-client-secret-for-tests",
      method: "POST",
      uri,
      body: payload,
      timestampMs: ts,
    });
    const wrongType = await t.app.request(uri, {
      method: "POST",
      headers: {
        "content-type": "text/plain",
        "x-hubspot-signature-v3": good,
        "x-hubspot-request-timestamp": String(ts),
      },
      body: payload,
    });
    await problem(wrongType, 415, "unsupported_media_type");
  });
  it("checks a hubspot body that is not UTF-8 in the contract's order: signature 401, media type 415, then 400", async () => {
    const uri = "http://localhost/v1/handover/hubspot";
    const bytes = Uint8Array.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]); // {"a":"\xff"}
    const ts = Date.now();
    const sign = () =>
      signHubSpotV3({
        clientSecret: "hubspot-client-secret-for-tests",
        method: "POST",
        uri,
        body: new TextDecoder().decode(bytes),
        timestampMs: ts,
      });
    const send = (headers: Record<string, string>) =>
      t.app.request(uri, { method: "POST", headers, body: bytes });
    await problem(await send({ "content-type": "application/json" }), 401, "unauthorized");
    const sig = { "x-hubspot-signature-v3": await sign(), "x-hubspot-request-timestamp": String(ts) };
    await problem(await send({ ...sig, "content-type": "text/plain" }), 415, "unsupported_media_type");
    await problem(await send({ ...sig, "content-type": "application/json" }), 400, "bad_request");
  });
});
