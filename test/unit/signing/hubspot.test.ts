import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hubspotSignedUri, signHubSpotV3, verifyHubSpotV3 } from "../../../src/core/signing/hubspot.js";

const clientSecret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
const uri = "https://router.example.com/v1/handover/hubspot";
const body = '{"deal":{"id":"18034554678","properties":{"amount":"48000"}}}';
const timestampMs = 1_740_000_000_000;

// Computed independently with node:crypto, exactly as HubSpot's docs describe the v3 source string.
const expectedSignature = createHmac("sha256", clientSecret)
  .update(`POST${uri}${body}${timestampMs}`, "utf8")
  .digest("base64");

const headers = (signature = expectedSignature, ts = String(timestampMs)) => ({
  "x-hubspot-signature-v3": signature,
  "x-hubspot-request-timestamp": ts,
});

describe("HubSpot signature v3", () => {
  it("signs method + URI + body + timestamp as an independent HMAC computation does", async () => {
    expect(await signHubSpotV3({ clientSecret, method: "POST", uri, body, timestampMs })).toBe(
      expectedSignature,
    );
  });

  it("accepts a correctly signed request within five minutes", async () => {
    const result = await verifyHubSpotV3({
      clientSecret,
      method: "POST",
      uri,
      body,
      headers: new Headers(headers()),
      nowMs: timestampMs + 299_000,
    });
    expect(result).toEqual({ ok: true, value: { timestampMs } });
  });

  it("rejects a request whose body was changed", async () => {
    const result = await verifyHubSpotV3({
      clientSecret,
      method: "POST",
      uri,
      body: body.replace("48000", "4800"),
      headers: headers(),
      nowMs: timestampMs,
    });
    expect(result).toEqual({ ok: false, error: "bad_signature" });
  });

  it("rejects a request signed for another URL", async () => {
    const result = await verifyHubSpotV3({
      clientSecret,
      method: "POST",
      uri: "http://router.example.com/v1/handover/hubspot",
      body,
      headers: headers(),
      nowMs: timestampMs,
    });
    expect(result).toEqual({ ok: false, error: "bad_signature" });
  });

  it("rejects a request signed with another client secret", async () => {
    const result = await verifyHubSpotV3({
      clientSecret: "another-secret",
      method: "POST",
      uri,
      body,
      headers: headers(),
      nowMs: timestampMs,
    });
    expect(result).toEqual({ ok: false, error: "bad_signature" });
  });

  it("rejects a timestamp older than five minutes", async () => {
    const result = await verifyHubSpotV3({
      clientSecret,
      method: "POST",
      uri,
      body,
      headers: headers(),
      nowMs: timestampMs + 300_001,
    });
    expect(result).toEqual({ ok: false, error: "stale_timestamp" });
  });

  it("rejects a timestamp more than five minutes in the future", async () => {
    const result = await verifyHubSpotV3({
      clientSecret,
      method: "POST",
      uri,
      body,
      headers: headers(),
      nowMs: timestampMs - 300_001,
    });
    expect(result).toEqual({ ok: false, error: "stale_timestamp" });
  });

  it("rejects a request without the signature headers", async () => {
    const result = await verifyHubSpotV3({
      clientSecret,
      method: "POST",
      uri,
      body,
      headers: {},
      nowMs: timestampMs,
    });
    expect(result).toEqual({ ok: false, error: "missing_headers" });
  });

  it("rejects a timestamp that is not milliseconds as digits", async () => {
    const result = await verifyHubSpotV3({
      clientSecret,
      method: "POST",
      uri,
      body,
      headers: headers(expectedSignature, "2025-02-19T21:20:00Z"),
      nowMs: timestampMs,
    });
    expect(result).toEqual({ ok: false, error: "invalid_headers" });
  });

  it("verifies a URL with encoded characters against the decoded form HubSpot signs", async () => {
    const encoded = "https://router.example.com/v1/handover/hubspot?token=a%3Ab%40c%2Cd&name=x%20y";
    const decoded = "https://router.example.com/v1/handover/hubspot?token=a:b@c,d&name=x%20y";
    const signature = createHmac("sha256", clientSecret)
      .update(`POST${decoded}${body}${timestampMs}`, "utf8")
      .digest("base64");
    const result = await verifyHubSpotV3({
      clientSecret,
      method: "POST",
      uri: encoded,
      body,
      headers: headers(signature),
      nowMs: timestampMs,
    });
    expect(result.ok).toBe(true);
  });
});

describe("the URI HubSpot signs", () => {
  it("decodes exactly the characters HubSpot lists and keeps the rest encoded", () => {
    expect(hubspotSignedUri("https://h/p?a=%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B&b=%20%26%3D%25")).toBe(
      "https://h/p?a=:/?@!$'()*,;&b=%20%26%3D%25",
    );
  });

  it("decodes lowercase hex the same as uppercase", () => {
    expect(hubspotSignedUri("https://h/p?a=%3a%2f")).toBe("https://h/p?a=:/");
  });
});
