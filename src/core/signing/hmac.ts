/**
 * HMAC-SHA256 building blocks on Web Crypto only, so the same code runs on Node 20 and Workers.
 */

const encoder = new TextEncoder();

/** UTF-8 bytes of a string (or the bytes themselves). */
export function utf8(input: string | Uint8Array): Uint8Array<ArrayBuffer> {
  if (typeof input === "string") return encoder.encode(input);
  const copy = new Uint8Array(input.byteLength);
  copy.set(input);
  return copy;
}

/** Concatenates byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const p of parts) length += p.byteLength;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Standard base64 (with padding) of bytes. */
export function base64Encode(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]!);
  return btoa(bin);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes standard, padded base64; `null` when the text is not base64. */
export function base64Decode(text: string): Uint8Array<ArrayBuffer> | null {
  if (!BASE64.test(text)) return null;
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Compares two byte arrays in time that depends only on their lengths. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

// Imported keys are cached per secret: importKey costs more than the HMAC itself for small bodies.
// Secrets come from configuration (a handful), so the cap only guards against misuse.
const KEY_CACHE_LIMIT = 64;
const keyCache = new Map<string, Promise<CryptoKey>>();

/** The HMAC-SHA256 key for raw key bytes, imported once and cached under `cacheKey`. */
export function hmacKey(cacheKey: string, raw: Uint8Array): Promise<CryptoKey> {
  const cached = keyCache.get(cacheKey);
  if (cached) return cached;
  if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
  const key = crypto.subtle.importKey("raw", utf8(raw), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  keyCache.set(cacheKey, key);
  // A failed import must not stay cached.
  key.catch(() => keyCache.delete(cacheKey));
  return key;
}

/** HMAC-SHA256 of `data` under `key`. */
export async function hmacSha256(key: CryptoKey, data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8(data)));
}
