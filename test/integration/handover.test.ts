import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { signHubSpotV3 } from "../../src/core/signing/hubspot.js";
import { parseWebhookSecrets, webhookHeaders } from "../../src/core/signing/standard-webhooks.js";
import { bankHandover } from "../fixtures/answers.js";
import { buildTestApp, type TestApp } from "../support/app.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const HUBSPOT_SECRET = "hubspot-client-secret-for-tests";
const SF_ORG = "00D5e000000ABCDEAA";
const SF_TOKEN = "sf-shared-token-123";

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({
    redisUrl: inject("redisUrl"),
    env: {
      HANDOVER_WEBHOOK_SECRET: SECRET,
      HUBSPOT_CLIENT_SECRET: HUBSPOT_SECRET,
      SALESFORCE_ORG_IDS: SF_ORG,
      SALESFORCE_TOKEN: SF_TOKEN,
    },
  });
});
afterAll(async () => {
  await t.close();
});

const uniq = (p: string) => `${p}-${Math.random().toString(36).slice(2, 10)}`;

async function signed(body: string, id = uniq("msg"), timestamp = Math.floor(Date.now() / 1000)) {
  const parsed = parseWebhookSecrets(SECRET);
  if (!parsed.ok) throw new Error("test secret");
  return webhookHeaders({ id, timestamp, body, secret: parsed.value[0]! });
}

async function send(body: string, headers: Record<string, string>) {
  return t.app.request("/v1/handover", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

const stored = async (accountId: string) =>
  t.services.redis.exists(t.services.keys.account.handover(accountId));

describe("POST /v1/handover (Standard Webhooks)", () => {
  it("stores a signed canonical handover and answers 202", async () => {
    const accountId = uniq("bank");
    const body = JSON.stringify(bankHandover(accountId));
    const res = await send(body, await signed(body));
    expect(res.status).toBe(202);
    const out = await res.json();
    expect(out).toMatchObject({ accountId, duplicate: false });
    expect(out.handoverId).toMatch(/^ho_/);
    const latest = JSON.parse((await t.services.redis.get(t.services.keys.account.handover(accountId)))!);
    expect(latest.account.industry).toBe("Banking");
    expect(latest.contacts[0].email).toBe("cfo@example.com");
  });

  it("answers the same webhook-id with the original handoverId and duplicate: true, storing once", async () => {
    const accountId = uniq("dup");
    const body = JSON.stringify(bankHandover(accountId));
    const headers = await signed(body, "msg_same");
    const first = await (await send(body, headers)).json();
    const second = await (await send(body, headers)).json();
    expect(second).toEqual({ handoverId: first.handoverId, accountId, duplicate: true });
    expect(await t.services.redis.llen(t.services.keys.account.handovers(accountId))).toBe(1);
  });

  it("stores one of two concurrent deliveries of the same handover", async () => {
    const accountId = uniq("conc");
    const body = JSON.stringify(bankHandover(accountId));
    const headers = await signed(body, "msg_conc");
    const outs = await Promise.all(
      [send(body, headers), send(body, headers)].map(async (r) => (await r).json()),
    );
    expect(outs.map((o) => o.duplicate).sort()).toEqual([false, true]);
    expect(outs[0].handoverId).toBe(outs[1].handoverId);
    expect(await t.services.redis.llen(t.services.keys.account.handovers(accountId))).toBe(1);
  });

  it.each([
    ["unsigned", async (_b: string) => ({})],
    [
      "badly signed",
      async (b: string) => ({
        ...(await signed(b)),
        "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
      }),
    ],
    ["stale", async (b: string) => signed(b, uniq("m"), Math.floor(Date.now() / 1000) - 600)],
    ["replayed with a changed body", async (b: string) => signed(b.replace("Northbank", "Southbank"))],
  ])("refuses a %s delivery with 401 and stores nothing", async (_n, headersFor) => {
    const accountId = uniq("unsig");
    const body = JSON.stringify(bankHandover(accountId));
    const res = await send(body, await headersFor(body));
    expect(res.status).toBe(401);
    expect((await res.json()).code).toBe("unauthorized");
    expect(await stored(accountId)).toBe(0);
  });

  it("answers 422 with paths for an invalid body with a good signature and stores nothing", async () => {
    const accountId = uniq("inv");
    const h = bankHandover(accountId);
    const body = JSON.stringify({
      ...h,
      account: { ...h.account, region: "MARS" },
      deal: { ...h.deal, currency: "dollars" },
    });
    const res = await send(body, await signed(body));
    expect(res.status).toBe(422);
    const paths = (await res.json()).errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(["account.region", "deal.currency"]));
    expect(await stored(accountId)).toBe(0);
  });

  it("answers 413 for an oversized body before checking the signature", async () => {
    const body = JSON.stringify({ ...bankHandover("big"), notes: "x".repeat(70 * 1024) });
    const res = await send(body, {});
    expect(res.status).toBe(413);
  });

  it("answers 400 for malformed JSON that is correctly signed", async () => {
    const body = '{"accountId": "x",';
    const res = await send(body, await signed(body));
    expect(res.status).toBe(400);
  });
});

describe("POST /v1/handover/hubspot", () => {
  const payload = readFileSync("test/fixtures/hubspot-deal.json", "utf8");
  it("answers an array of subscription events, or a bare value, with a 422 that says what it expects", async () => {
    for (const body of [
      '[{"eventId":1,"subscriptionType":"deal.propertyChange","objectId":9}]',
      "[]",
      "42",
      "null",
    ]) {
      const res = await hubspot(body);
      expect(res.status, body).toBe(422);
      const p = await res.json();
      expect(p.errors).toEqual([
        { path: "(body)", message: expect.stringContaining("expected one deal object") },
      ]);
    }
  });

  async function hubspot(body: string, ts = Date.now(), secret = HUBSPOT_SECRET) {
    const uri = "http://localhost/v1/handover/hubspot";
    const sig = await signHubSpotV3({ clientSecret: secret, method: "POST", uri, body, timestampMs: ts });
    return t.app.request(uri, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-hubspot-signature-v3": sig,
        "x-hubspot-request-timestamp": String(ts),
      },
      body,
    });
  }

  it("maps a signed HubSpot deal webhook to a stored canonical handover", async () => {
    const res = await hubspot(payload);
    expect(res.status).toBe(202);
    const out = await res.json();
    expect(out.duplicate).toBe(false);
    const latest = JSON.parse((await t.services.redis.get(t.services.keys.account.handover(out.accountId)))!);
    expect(latest.source).toBe("hubspot");
    expect(latest.deal.products.length).toBeGreaterThan(0);
  });

  it("refuses a wrong signature and a stale timestamp with 401", async () => {
    expect((await hubspot(payload, Date.now(), "wrong-secret")).status).toBe(401);
    expect((await hubspot(payload, Date.now() - 10 * 60_000)).status).toBe(401);
  });
});

describe("POST /v1/handover/salesforce", () => {
  const xml = readFileSync("test/fixtures/salesforce-outbound-batch.xml", "utf8");
  const sf = (body: string, token = SF_TOKEN, ct = "text/xml; charset=utf-8") =>
    t.app.request(`/v1/handover/salesforce?token=${encodeURIComponent(token)}`, {
      method: "POST",
      headers: { "content-type": ct },
      body,
    });

  it("stores every notification of a batch and answers the SOAP Ack", async () => {
    const res = await sf(xml);
    if (res.status !== 200) console.log(await res.clone().text());
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/xml");
    const text = await res.text();
    expect(text).toContain("<Ack>true</Ack>");
    expect(await stored("0015e00000Qr7SuAAJ")).toBe(1);
    const again = await sf(xml);
    expect(again.status).toBe(200);
    expect(await t.services.redis.llen(t.services.keys.account.handovers("0015e00000Qr7SuAAJ"))).toBe(1);
  });

  it("stores Salesforce strings verbatim, surrounding spaces included", async () => {
    const padded = xml
      .replace("<Id>04l5e00000D1cQwAAJ</Id>", "<Id>04l5e00000D1cQwAAX</Id>")
      .replace(
        "<sf:AccountId>0015e00000Qr7SuAAJ</sf:AccountId>",
        "<sf:AccountId>0015e00000Qr7SuPAD</sf:AccountId>",
      )
      .replace("<sf:Name>Initech - Starter</sf:Name>", "<sf:Name>  Initech  - Starter </sf:Name>");
    expect((await sf(padded)).status).toBe(200);
    const h = JSON.parse(
      (await t.services.redis.get(t.services.keys.account.handover("0015e00000Qr7SuPAD"))) ?? "{}",
    );
    expect(h.account.name).toBe("  Initech  - Starter ");
  });

  it("answers 401 for a wrong token, 403 for an unknown org, 400 for a DOCTYPE, as problem+json", async () => {
    expect((await sf(xml, "nope")).status).toBe(401);
    const otherOrg = await sf(xml.replaceAll(SF_ORG, "00D000000000000AAA"));
    expect(otherOrg.status).toBe(403);
    expect(otherOrg.headers.get("content-type")).toContain("application/problem+json");
    const evil = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>${xml.replace(/^<\?xml[^>]*\?>/, "")}`;
    const doctype = await sf(evil);
    expect(doctype.status).toBe(400);
    expect((await doctype.json()).code).toBe("bad_request");
  });
});
