import { err, ok, type Result } from "../result.js";
import { type HeaderSource, readHeader } from "./headers.js";
import { base64Decode, base64Encode, hmacKey, hmacSha256, timingSafeEqual, utf8 } from "./hmac.js";

/**
 * HubSpot request signature v3: `X-HubSpot-Signature-v3` =
 * base64(HMAC-SHA256(clientSecret, method + uri + body + timestamp)), with
 * `X-HubSpot-Request-Timestamp` in milliseconds. HubSpot rejects requests older than 5 minutes;
 * we also reject ones more than 5 minutes in the future.
 * https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation
 */

export const HUBSPOT_TOLERANCE_MS = 5 * 60 * 1000;

// HubSpot's docs list exactly these percent-encodings to decode in the URI before signing;
// everything else (e.g. %20, %26, %3D) stays encoded.
const DECODED: Readonly<Record<string, string>> = {
  "3A": ":",
  "2F": "/",
  "3F": "?",
  "40": "@",
  "21": "!",
  "24": "$",
  "27": "'",
  "28": "(",
  "29": ")",
  "2A": "*",
  "2C": ",",
  "3B": ";",
};

/** The URI as HubSpot signs it: the full URL with HubSpot's listed percent-encodings decoded. */
export function hubspotSignedUri(uri: string): string {
  return uri.replace(/%([0-9A-Fa-f]{2})/g, (whole, hex: string) => DECODED[hex.toUpperCase()] ?? whole);
}

export type HubSpotVerifyError = "missing_headers" | "invalid_headers" | "stale_timestamp" | "bad_signature";

export type HubSpotRequest = {
  readonly clientSecret: string;
  /** HTTP method as received, e.g. `POST`. */
  readonly method: string;
  /** The full URL HubSpot called: `PUBLIC_BASE_URL` + path + query when set, else the request URL. */
  readonly uri: string;
  /** The raw body exactly as received. */
  readonly body: string;
};

async function sign(req: HubSpotRequest, timestamp: string): Promise<Uint8Array<ArrayBuffer>> {
  const key = await hmacKey(`hubspot:${req.clientSecret}`, utf8(req.clientSecret));
  const source = `${req.method.toUpperCase()}${hubspotSignedUri(req.uri)}${req.body}${timestamp}`;
  return hmacSha256(key, utf8(source));
}

/** The `X-HubSpot-Signature-v3` value HubSpot would send for this request (for tests and tools). */
export async function signHubSpotV3(req: HubSpotRequest & { readonly timestampMs: number }): Promise<string> {
  return base64Encode(await sign(req, String(req.timestampMs)));
}

/** Verifies `x-hubspot-signature-v3` and `x-hubspot-request-timestamp` for a request. */
export async function verifyHubSpotV3(
  req: HubSpotRequest & { readonly headers: HeaderSource; readonly nowMs?: number },
): Promise<Result<{ readonly timestampMs: number }, HubSpotVerifyError>> {
  const signature = readHeader(req.headers, "x-hubspot-signature-v3");
  const timestampText = readHeader(req.headers, "x-hubspot-request-timestamp");
  if (!signature || !timestampText) return err("missing_headers");
  if (!/^\d{1,15}$/.test(timestampText)) return err("invalid_headers");

  const timestampMs = Number(timestampText);
  const now = req.nowMs ?? Date.now();
  if (Math.abs(now - timestampMs) > HUBSPOT_TOLERANCE_MS) return err("stale_timestamp");

  const given = base64Decode(signature.trim());
  if (given?.length !== 32) return err("bad_signature");
  const expected = await sign(req, timestampText);
  return timingSafeEqual(expected, given) ? ok({ timestampMs }) : err("bad_signature");
}
