import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  generateWebhookSecret,
  parseWebhookSecrets,
  signWebhook,
  verifyWebhook,
  type WebhookSecret,
  webhookHeaders,
} from "../../../src/core/signing/standard-webhooks.js";

// The published vector from the Standard Webhooks reference library
// (standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts, "sign function works").
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

function secrets(text: string): WebhookSecret[] {
  const parsed = parseWebhookSecrets(text);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

const vectorSecret = secrets(VECTOR.secret);
const vectorHeaders = (signature = VECTOR.signature) => ({
  "webhook-id": VECTOR.id,
  "webhook-timestamp": String(VECTOR.timestamp),
  "webhook-signature": signature,
});

describe("Standard Webhooks signatures", () => {
  it("signs the published test vector to the published signature", async () => {
    const signature = await signWebhook({
      id: VECTOR.id,
      timestamp: VECTOR.timestamp,
      body: VECTOR.body,
      secret: vectorSecret[0]!,
    });
    expect(signature).toBe(VECTOR.signature);
  });

  it("signs the same from a Date as from seconds", async () => {
    const signature = await signWebhook({
      id: VECTOR.id,
      timestamp: new Date(VECTOR.timestamp * 1000),
      body: new TextEncoder().encode(VECTOR.body),
      secret: vectorSecret[0]!,
    });
    expect(signature).toBe(VECTOR.signature);
  });

  it("accepts the published test vector within the tolerance", async () => {
    const result = await verifyWebhook({
      secrets: vectorSecret,
      headers: new Headers(vectorHeaders()),
      body: VECTOR.body,
      nowSeconds: VECTOR.timestamp + 299,
    });
    expect(result).toEqual({ ok: true, value: { id: VECTOR.id, timestamp: VECTOR.timestamp } });
  });

  it("accepts a header with several signatures when any one is valid", async () => {
    const header = [
      "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
      "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
      "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==",
      VECTOR.signature,
    ].join(" ");
    const result = await verifyWebhook({
      secrets: vectorSecret,
      headers: vectorHeaders(header),
      body: VECTOR.body,
      nowSeconds: VECTOR.timestamp,
    });
    expect(result.ok).toBe(true);
  });

  it("accepts a webhook signed with any of several configured secrets (rotation)", async () => {
    const old = generateWebhookSecret();
    const next = generateWebhookSecret();
    const [oldSecret] = secrets(old);
    const headers = await webhookHeaders({
      id: "msg_1",
      timestamp: 1_700_000_000,
      body: "{}",
      secret: oldSecret!,
    });
    const result = await verifyWebhook({
      secrets: secrets(`${next} ${old}`),
      headers,
      body: "{}",
      nowSeconds: 1_700_000_000,
    });
    expect(result.ok).toBe(true);
  });

  it("rejects a webhook signed with a secret that is not configured", async () => {
    const [other] = secrets(generateWebhookSecret());
    const headers = await webhookHeaders({
      id: "msg_1",
      timestamp: 1_700_000_000,
      body: "{}",
      secret: other!,
    });
    const result = await verifyWebhook({
      secrets: vectorSecret,
      headers,
      body: "{}",
      nowSeconds: 1_700_000_000,
    });
    expect(result).toEqual({ ok: false, error: "bad_signature" });
  });

  it("rejects a timestamp more than five minutes old", async () => {
    const result = await verifyWebhook({
      secrets: vectorSecret,
      headers: vectorHeaders(),
      body: VECTOR.body,
      nowSeconds: VECTOR.timestamp + 301,
    });
    expect(result).toEqual({ ok: false, error: "stale_timestamp" });
  });

  it("rejects a timestamp more than five minutes in the future", async () => {
    const result = await verifyWebhook({
      secrets: vectorSecret,
      headers: vectorHeaders(),
      body: VECTOR.body,
      nowSeconds: VECTOR.timestamp - 301,
    });
    expect(result).toEqual({ ok: false, error: "stale_timestamp" });
  });

  it("rejects a tampered body", async () => {
    const result = await verifyWebhook({
      secrets: vectorSecret,
      headers: vectorHeaders(),
      body: '{"test": 2432232315}',
      nowSeconds: VECTOR.timestamp,
    });
    expect(result).toEqual({ ok: false, error: "bad_signature" });
  });

  it("rejects a tampered id, since the id is signed too", async () => {
    const result = await verifyWebhook({
      secrets: vectorSecret,
      headers: { ...vectorHeaders(), "webhook-id": "msg_other" },
      body: VECTOR.body,
      nowSeconds: VECTOR.timestamp,
    });
    expect(result).toEqual({ ok: false, error: "bad_signature" });
  });

  it.each(["webhook-id", "webhook-timestamp", "webhook-signature"] as const)(
    "rejects a request without the %s header",
    async (name) => {
      const headers: Record<string, string | undefined> = { ...vectorHeaders(), [name]: undefined };
      const result = await verifyWebhook({
        secrets: vectorSecret,
        headers,
        body: VECTOR.body,
        nowSeconds: VECTOR.timestamp,
      });
      expect(result).toEqual({ ok: false, error: "missing_headers" });
    },
  );

  it("rejects a timestamp that is not a whole number of seconds", async () => {
    const result = await verifyWebhook({
      secrets: vectorSecret,
      headers: { ...vectorHeaders(), "webhook-timestamp": "1614265330.5" },
      body: VECTOR.body,
      nowSeconds: VECTOR.timestamp,
    });
    expect(result).toEqual({ ok: false, error: "invalid_headers" });
  });

  it.each([
    "v1,",
    "v1,dawfeoifkpqwoekfpqoekf",
    "v1,g0hM9SsE",
    "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
  ])("rejects the malformed or partial signature %s", async (signature) => {
    const result = await verifyWebhook({
      secrets: vectorSecret,
      headers: vectorHeaders(signature),
      body: VECTOR.body,
      nowSeconds: VECTOR.timestamp,
    });
    expect(result).toEqual({ ok: false, error: "bad_signature" });
  });

  it("verifies what it signs and rejects any one-byte change of the body", async () => {
    const [secret] = secrets(generateWebhookSecret());
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 256 }), fc.nat(), async (body, at) => {
        const headers = await webhookHeaders({
          id: "msg_p",
          timestamp: 1_700_000_000,
          body,
          secret: secret!,
        });
        const good = await verifyWebhook({ secrets: [secret!], headers, body, nowSeconds: 1_700_000_000 });
        const changed = body.slice();
        const i = at % changed.length;
        changed[i] = changed[i]! ^ 0x01;
        const bad = await verifyWebhook({
          secrets: [secret!],
          headers,
          body: changed,
          nowSeconds: 1_700_000_000,
        });
        return good.ok && !bad.ok;
      }),
      { numRuns: 100 },
    );
  });
});

describe("webhook secrets", () => {
  it("reads a space-separated list of whsec_ secrets", () => {
    const parsed = parseWebhookSecrets(`${generateWebhookSecret()}  ${VECTOR.secret}`);
    expect(parsed.ok && parsed.value.length).toBe(2);
  });

  it.each([
    ["an empty value", ""],
    ["a secret without the whsec_ prefix", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    ["a secret that is not base64", "whsec_not*base64!"],
    ["a secret shorter than 24 bytes", "whsec_c2hvcnQ="],
  ])("refuses %s", (_what, text) => {
    expect(parseWebhookSecrets(text).ok).toBe(false);
  });
});
