import type { Context } from "hono";
import { ApiError, type FieldError } from "./errors.js";

/** 64 KiB: the contract's request size limit, enforced before parsing. */
export const MAX_BODY_BYTES = 64 * 1024;
/**
 * 1 MiB for the admin calls that carry a whole ruleset (validate, simulate, backtest, publish):
 * the shipped rules are already ~40 KB, and a few more flows would otherwise make a ruleset that
 * RULES_DIR can publish but the API and console can never edit. Admin token only.
 */
export const MAX_RULESET_BODY_BYTES = 1024 * 1024;

/**
 * How much of an oversized or unread body is read and thrown away before the stream is cancelled.
 * Cancelling a request body mid-stream leaves workerd's connection in a bad state (the next request
 * stalls or gets a bare 503), so bodies up to this size are drained instead; past it, cancelling
 * is the lesser harm than reading without bound.
 */
export const DRAIN_BYTES = 2 * 1024 * 1024;
/**
 * How much of an oversized body the edge drains before its 413 (Cloudflare refuses bodies over
 * 100 MB on its own). Cancelling a 5 MiB body at DRAIN_BYTES broke workerd's next request, even
 * another client's; so did answering before a body had been read.
 */
export const DRAIN_OVERSIZED_BYTES = 128 * 1024 * 1024;

/** The client disconnected while sending its body: nobody is left to read an answer. */
export class BodyCutOff extends Error {
  constructor(cause: unknown) {
    super("the client closed the connection before sending the whole body", { cause });
    this.name = "BodyCutOff";
  }
}

/** Whether the app runs on Cloudflare Workers (Hono has an ExecutionContext there, not on Node). */
function onWorkers(c: Context): boolean {
  try {
    return c.executionCtx !== undefined;
  } catch {
    return false;
  }
}

/**
 * Reads the raw body, refusing more than `max` bytes whether or not Content-Length is sent;
 * a client that disconnects mid-body is a BodyCutOff, not a fault of the service.
 */
export async function readBodyCapped(c: Context, max = MAX_BODY_BYTES): Promise<Uint8Array> {
  try {
    return await readCapped(c, max);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new BodyCutOff(error);
  }
}

async function readCapped(c: Context, max: number): Promise<Uint8Array> {
  const declared = c.req.header("content-length");
  if (declared !== undefined && /^\d+$/.test(declared)) {
    if (Number(declared) > max)
      throw new ApiError("payload_too_large", `The body must be at most ${max} bytes`);
    // The HTTP layer delivers exactly the declared length, so a buffered read is bounded: take
    // the runtime's direct path (on Node it skips building a web Request, stream and signal).
    const bytes = new Uint8Array(await c.req.raw.arrayBuffer());
    if (bytes.byteLength > max)
      throw new ApiError("payload_too_large", `The body must be at most ${max} bytes`);
    return bytes;
  }
  const body = c.req.raw.body;
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      // Drained before the answer. On Workers an answer that overtakes the body, or a cancelled
      // body, breaks workerd's next request; Node cancels cleanly past DRAIN_BYTES.
      await drain(reader, size, onWorkers(c) ? DRAIN_OVERSIZED_BYTES : max + DRAIN_BYTES);
      throw new ApiError("payload_too_large", `The body must be at most ${max} bytes`);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const ch of chunks) {
    out.set(ch, offset);
    offset += ch.byteLength;
  }
  return out;
}

/** Reads and discards the rest of a body, cancelling only once `limit` bytes have gone by. */
export async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, seen: number, limit: number) {
  try {
    for (let n = seen; n <= limit; ) {
      const { done, value } = await reader.read();
      if (done) return;
      n += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // The client went away: nothing left to read.
  }
}

const JSON_TYPE = /^application\/(?:[A-Za-z0-9.!#$&^_-]+\+)?json$/i;

/**
 * application/json or application/*+json whose charset, if given, is utf-8 (any case, quoted or
 * not). Other parameters (`; version=2`) do not change the body's syntax and are ignored.
 */
export function isJsonMediaType(contentType: string): boolean {
  const [type = "", ...params] = contentType.split(";");
  if (!JSON_TYPE.test(type.trim())) return false;
  for (const p of params) {
    const eq = p.indexOf("=");
    if (eq < 0 || p.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    const charset = p
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1")
      .toLowerCase();
    if (charset !== "utf-8") return false;
  }
  return true;
}

/**
 * 415 for a compressed body: the service reads bodies as sent, so gzip bytes would otherwise
 * surface as a misleading "not valid UTF-8" 400 (or, by chance, be parsed as they are).
 */
export function assertIdentityEncoding(c: Context): void {
  const encoding = c.req.header("content-encoding")?.trim().toLowerCase();
  if (encoding && encoding !== "identity")
    throw new ApiError(
      "unsupported_media_type",
      `Content-Encoding ${encoding.slice(0, 40)} is not supported; send the body uncompressed`,
    );
}

/** 415 unless the content type is application/json or application/*+json (charset utf-8 or none), uncompressed. */
export function assertJsonMediaType(c: Context): void {
  assertIdentityEncoding(c);
  const ct = c.req.header("content-type");
  if (!ct || !isJsonMediaType(ct)) {
    throw new ApiError("unsupported_media_type", "Send the body as application/json (charset utf-8)");
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true });
const BLANK = /^\s*$/;

/** Decodes UTF-8 and parses JSON; 400 `bad_request` when either fails. */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new ApiError("bad_request", "The body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    // Checked only on failure: a whitespace-only body never parses, and the happy path skips a copy.
    if (BLANK.test(text)) throw new ApiError("bad_request", "The body is empty; send a JSON object");
    throw new ApiError(
      "bad_request",
      // The same words on Node and the edge: newer V8 adds " (line 1 column 2)" to its message.
      `Malformed JSON: ${e instanceof SyntaxError ? e.message.replace(/ \(line \d+ column \d+\)$/, "") : "cannot parse"}`,
    );
  }
}

/**
 * How deep a JSON body may nest. 64 KiB of `[` parses fine but overflows the stack of every
 * recursive walk after it (JSON.stringify when storing `context` or `data`): a 500. Refused as a
 * 422 instead; real payloads nest a handful of levels.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * The first value of a parsed body that no handler may receive, with its dotted path:
 * - nesting deeper than `max`;
 * - a number JSON cannot carry (`1e309` parses to Infinity and would be stored as null);
 * - a `__proto__` key (copying it sets an object's prototype instead of a field, so its
 *   contents would read as inherited fields).
 * Iterative: no recursion.
 */
export function jsonBodyProblem(
  root: unknown,
  /** `depth`: the nesting bound only, for bodies whose unknown fields the handler drops (handovers). */
  checks: "all" | "depth" = "all",
  max = MAX_JSON_DEPTH,
): FieldError | undefined {
  const all = checks === "all";
  if (all && typeof root === "number" && !Number.isFinite(root))
    return { path: "(body)", message: OUT_OF_RANGE };
  const stack: { v: object; d: number; at: number }[] = [];
  const seen: { parent: number; key: string }[] = [{ parent: -1, key: "" }];
  const pathOf = (parent: number, key: string) => {
    const parts = [key];
    for (let i = parent; i > 0; i = seen[i]!.parent) parts.push(seen[i]!.key);
    return parts.reverse().join(".") || "(body)";
  };
  if (root !== null && typeof root === "object") stack.push({ v: root, d: 0, at: 0 });
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.d >= max) {
      const parts: string[] = [];
      for (let i = node.at; i > 0; i = seen[i]!.parent) parts.push(seen[i]!.key);
      return { path: parts.reverse().join(".") || "(body)", message: `nested deeper than ${max} levels` };
    }
    for (const [key, v] of Object.entries(node.v)) {
      if (all && key === "__proto__")
        return { path: pathOf(node.at, key), message: "__proto__ is not an allowed key" };
      if (typeof v === "number") {
        if (all && !Number.isFinite(v)) return { path: pathOf(node.at, key), message: OUT_OF_RANGE };
      } else if (v !== null && typeof v === "object")
        stack.push({ v, d: node.d + 1, at: seen.push({ parent: node.at, key }) - 1 });
    }
  }
  return undefined;
}

const OUT_OF_RANGE = "number is out of range";

/** Parses a JSON body (400 on bad UTF-8 or syntax), then refuses what `jsonBodyProblem` finds (422). */
export function parseJsonBody(bytes: Uint8Array, checks: "all" | "depth" = "all"): unknown {
  const value = parseJsonBytes(bytes);
  const problem = jsonBodyProblem(value, checks);
  if (problem) throw new ApiError("validation_failed", `${problem.path}: ${problem.message}`, [problem]);
  return value;
}

/** Size → media type → syntax, in the contract's order; then the body's shape bounds. Validation is the handler's (zod). */
export async function readJson(c: Context, max = MAX_BODY_BYTES): Promise<unknown> {
  const bytes = await readBodyCapped(c, max);
  assertJsonMediaType(c);
  return parseJsonBody(bytes);
}

export function decodeText(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new ApiError("bad_request", "The body is not valid UTF-8");
  }
}
