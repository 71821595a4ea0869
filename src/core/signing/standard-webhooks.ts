import { err, ok, type Result } from "../result.js";
import { type HeaderSource, readHeader } from "./headers.js";
import {
  base64Decode,
  base64Encode,
  concatBytes,
  hmacKey,
  hmacSha256,
  timingSafeEqual,
  utf8,
} from "./hmac.js";

/**
 * Standard Webhooks (https://www.standardwebhooks.com) symmetric signatures: HMAC-SHA256 over
 * `{webhook-id}.{webhook-timestamp}.{body}`, sent as space-separated `v1,<base64>` entries so a
 * sender can sign with an old and a new secret during rotation.
 */

/** How far `webhook-timestamp` may be from now, either way. */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

// Caps that keep a hostile header cheap to reject.
const MAX_ID_LENGTH = 256;
const MAX_SIGNATURE_ENTRIES = 16;

/** A decoded `whsec_` secret. `source` is the configured text (used only as the key-cache key). */
export type WebhookSecret = { readonly source: string; readonly key: Uint8Array<ArrayBuffer> };

export type WebhookSecretError = {
  readonly reason: "invalid_secret";
  readonly index: number;
  readonly message: string;
};

/**
 * Parses one or more secrets (`whsec_<base64>`, space- or comma-separated, as in
 * `HANDOVER_WEBHOOK_SECRET`). The spec asks for 24–64 random bytes.
 */
export function parseWebhookSecrets(text: string): Result<WebhookSecret[], WebhookSecretError> {
  const parts = text.split(/[\s,]+/).filter((p) => p.length > 0);
  if (parts.length === 0) {
    return err({
      reason: "invalid_secret",
      index: 0,
      message: "expected at least one whsec_<base64> secret",
    });
  }
  const secrets: WebhookSecret[] = [];
  for (const [index, part] of parts.entries()) {
    if (!part.startsWith("whsec_")) {
      return err({ reason: "invalid_secret", index, message: "expected a secret starting with whsec_" });
    }
    const key = base64Decode(part.slice("whsec_".length));
    if (!key) return err({ reason: "invalid_secret", index, message: "expected base64 after whsec_" });
    if (key.length < 24 || key.length > 64) {
      return err({ reason: "invalid_secret", index, message: "expected 24 to 64 bytes of key after whsec_" });
    }
    secrets.push({ source: part, key });
  }
  return ok(secrets);
}

/** Makes a fresh `whsec_` secret of `bytes` random bytes (default 32). */
export function generateWebhookSecret(bytes = 32): string {
  const key = new Uint8Array(bytes);
  crypto.getRandomValues(key);
  return `whsec_${base64Encode(key)}`;
}

export type { HeaderSource };

export type WebhookVerifyError = "missing_headers" | "invalid_headers" | "stale_timestamp" | "bad_signature";

/** What a verified webhook tells the caller: its id (the idempotency key) and timestamp. */
export type VerifiedWebhook = { readonly id: string; readonly timestamp: number };

export type VerifyWebhookInput = {
  readonly secrets: readonly WebhookSecret[];
  readonly headers: HeaderSource;
  /** The raw body exactly as received (never re-serialised JSON). */
  readonly body: string | Uint8Array;
  /** Current time in seconds since the epoch; defaults to the clock. */
  readonly nowSeconds?: number;
};

function signedContent(id: string, timestamp: string, body: string | Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes(utf8(`${id}.${timestamp}.`), utf8(body));
}

async function sign(secret: WebhookSecret, content: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return hmacSha256(await hmacKey(`whsec:${secret.source}`, secret.key), content);
}

/** Verifies `webhook-id`, `webhook-timestamp` and `webhook-signature` against any of `secrets`. */
export async function verifyWebhook(
  input: VerifyWebhookInput,
): Promise<Result<VerifiedWebhook, WebhookVerifyError>> {
  const id = readHeader(input.headers, "webhook-id");
  const timestampText = readHeader(input.headers, "webhook-timestamp");
  const signatureHeader = readHeader(input.headers, "webhook-signature");
  if (!id || !timestampText || !signatureHeader) return err("missing_headers");
  if (id.length > MAX_ID_LENGTH || !/^\d{1,12}$/.test(timestampText)) return err("invalid_headers");

  const timestamp = Number(timestampText);
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > WEBHOOK_TOLERANCE_SECONDS) return err("stale_timestamp");

  const candidates: Uint8Array[] = [];
  for (const entry of signatureHeader.split(" ").slice(0, MAX_SIGNATURE_ENTRIES)) {
    const comma = entry.indexOf(",");
    if (comma < 0 || entry.slice(0, comma) !== "v1") continue;
    const bytes = base64Decode(entry.slice(comma + 1));
    if (bytes && bytes.length === 32) candidates.push(bytes);
  }
  if (candidates.length === 0 || input.secrets.length === 0) return err("bad_signature");

  const content = signedContent(id, timestampText, input.body);
  let matched = false;
  for (const secret of input.secrets) {
    const expected = await sign(secret, content);
    // No early exit: every candidate is compared, so timing does not tell which one matched.
    for (const candidate of candidates) matched = timingSafeEqual(expected, candidate) || matched;
  }
  return matched ? ok({ id, timestamp }) : err("bad_signature");
}

export type SignWebhookInput = {
  readonly id: string;
  /** Seconds since the epoch, or a Date. */
  readonly timestamp: number | Date;
  readonly body: string | Uint8Array;
  readonly secret: WebhookSecret;
};

function toSeconds(timestamp: number | Date): string {
  const seconds = timestamp instanceof Date ? Math.floor(timestamp.getTime() / 1000) : Math.floor(timestamp);
  return String(seconds);
}

/** The `webhook-signature` value (`v1,<base64>`) for an outbound webhook. */
export async function signWebhook(input: SignWebhookInput): Promise<string> {
  const mac = await sign(input.secret, signedContent(input.id, toSeconds(input.timestamp), input.body));
  return `v1,${base64Encode(mac)}`;
}

/** All three Standard Webhooks headers for an outbound request. */
export async function webhookHeaders(input: SignWebhookInput): Promise<Record<string, string>> {
  return {
    "webhook-id": input.id,
    "webhook-timestamp": toSeconds(input.timestamp),
    "webhook-signature": await signWebhook(input),
  };
}
