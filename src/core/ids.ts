/**
 * Account and user ids: 1–128 chars of [A-Za-z0-9._:@-] (CONTRACT.md), except `.` and `..`:
 * every HTTP client and router resolves those as path segments, so an account named `..` could
 * be created but never read (`GET /v1/accounts/..` is `/v1/`) nor erased.
 */
export const SUBJECT_ID_PATTERN = /^(?!\.\.?$)[A-Za-z0-9._:@-]{1,128}$/;
/** The 422 message for an id outside SUBJECT_ID_PATTERN. */
export const SUBJECT_ID_MESSAGE = "must be 1–128 characters of A-Z a-z 0-9 . _ : @ - (and not . or ..)";

/** Ids inside rule files: questions, flows, steps, rules. */
export const RULE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** A random, URL-safe id with a type prefix, e.g. `dec_k3j…`. Uses Web Crypto (Node and Workers). */
export function newId(prefix: string, length = 20): string {
  const bytes = new Uint8Array(length);
  crypto.getRandomValues(bytes);
  let out = `${prefix}_`;
  for (const b of bytes) out += ALPHABET[b % 36];
  return out;
}
