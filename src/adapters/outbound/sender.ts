import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { type WebhookSecret, webhookHeaders } from "../../core/signing/standard-webhooks.js";

/** Calls that may leave the service: who signs, where they may go, how long they may take. */
export interface OutboundConfig {
  /** The first secret signs (Standard Webhooks). */
  readonly secrets: readonly WebhookSecret[];
  /** `OUTBOUND_ALLOWED_HOSTS`: when set, only these hosts; they may be private. */
  readonly allowedHosts: readonly string[];
  /** `WEBHOOK_SUBSCRIBERS`: URLs that get flow notifications. */
  readonly subscribers: readonly string[];
  /** Default 5000 (CONTRACT). */
  readonly timeoutMs?: number;
}

export class OutboundError extends Error {
  constructor(
    message: string,
    /** false: retrying cannot help (refused by the SSRF guard, bad URL). */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = "OutboundError";
  }
}

const blocked = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 3],
] as const)
  blocked.addSubnet(net, bits, "ipv4");
for (const [net, bits] of [
  // Unspecified, loopback and IPv4-compatible (`::7f00:1`). IPv4-mapped ones (`::ffff:…`) are
  // checked as the IPv4 address they carry (isPrivateAddress).
  ["::", 96],
  // Translated or tunnelled IPv4, which can reach any IPv4 address: NAT64 (well-known and
  // local-use prefixes), 6to4, Teredo.
  ["64:ff9b::", 96],
  ["64:ff9b:1::", 48],
  ["2002::", 16],
  ["2001::", 32],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const)
  blocked.addSubnet(net, bits, "ipv6");

/** True for loopback, private, link-local, CGNAT, multicast and unspecified addresses, and IPv6 forms that carry IPv4 (mapped, compatible, NAT64, 6to4, Teredo). */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 4) return blocked.check(address, "ipv4");
  const mapped = mappedIPv4(address);
  return mapped ? blocked.check(mapped, "ipv4") : blocked.check(address, "ipv6");
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`, `::ffff:7f00:1`), else undefined. */
function mappedIPv4(address: string): string | undefined {
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  let text = address.toLowerCase();
  if (dotted) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[2]!.split(".").map(Number);
    text = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = [...left, ...Array(8 - left.length - right.length).fill("0"), ...right].map((g) =>
    parseInt(g, 16),
  );
  if (groups.length !== 8 || groups.slice(0, 5).some((g) => g !== 0) || groups[5] !== 0xffff)
    return undefined;
  const [hi = 0, lo = 0] = groups.slice(6);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

const bareHost = (hostname: string) => hostname.replace(/^\[|\]$/g, "").toLowerCase();

/** Why a URL may not be called, or undefined when it may (addresses are checked again at connect). */
export function refuseUrl(url: URL, allowedHosts: readonly string[]): string | undefined {
  if (url.protocol !== "http:" && url.protocol !== "https:") return "only http(s) URLs may be called";
  const host = bareHost(url.hostname);
  const listed = allowedHosts.some((h) => h.toLowerCase() === host);
  if (allowedHosts.length > 0 && !listed) return `host ${host} is not in OUTBOUND_ALLOWED_HOSTS`;
  if (!listed && isIP(host) !== 0 && isPrivateAddress(host)) return `address ${host} is private`;
  return undefined;
}

/** A DNS lookup that refuses private addresses for unlisted hosts, at connect time (no rebinding window). */
function guardedLookup(allowed: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, "", 4);
      const bad = !allowed && addresses.find((a) => isPrivateAddress(a.address));
      if (bad)
        return callback(new OutboundError(`host ${hostname} resolves to a private address`, false), "", 4);
      if ((options as { all?: boolean }).all)
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new Error(`no address for ${hostname}`), "", 4);
      callback(null, first.address, first.family);
    });
  };
}

export interface DeliveryResult {
  readonly status: number;
}

/**
 * POSTs `body` as signed JSON. `id` is the Standard Webhooks `webhook-id` and the `idempotency-key`
 * (deterministic per step visit, so retries carry the same key). Throws OutboundError on refusal,
 * timeout, network failure or a non-2xx answer.
 */
export async function postSigned(
  cfg: OutboundConfig,
  target: string,
  body: unknown,
  id: string,
  extraHeaders: Readonly<Record<string, string>> = {},
): Promise<DeliveryResult> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new OutboundError("not a valid URL", false);
  }
  const refused = refuseUrl(url, cfg.allowedHosts);
  if (refused) throw new OutboundError(refused, false);
  const secret = cfg.secrets[0];
  if (!secret) throw new OutboundError("no OUTBOUND_WEBHOOK_SECRET to sign with", false);
  const text = JSON.stringify(body);
  const signed = await webhookHeaders({ id, timestamp: new Date(), body: text, secret });
  const listed = cfg.allowedHosts.some((h) => h.toLowerCase() === bareHost(url.hostname));
  const options: RequestOptions = {
    method: "POST",
    headers: {
      ...extraHeaders,
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(text)),
      "idempotency-key": id,
      "user-agent": "onboarding-router",
      ...signed,
    },
    lookup: guardedLookup(listed),
    signal: AbortSignal.timeout(cfg.timeoutMs ?? 5000),
  };
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  const status = await new Promise<number>((resolve, reject) => {
    const req = send(url, options, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.on("error", (e) => {
      if (e instanceof OutboundError) reject(e);
      else if (e.name === "AbortError")
        reject(new OutboundError(`no answer within ${cfg.timeoutMs ?? 5000} ms`, true));
      else
        reject(new OutboundError(`request failed: ${(e as NodeJS.ErrnoException).code ?? e.message}`, true));
    });
    req.end(text);
  });
  if (status < 200 || status >= 300) throw new OutboundError(`answered HTTP ${status}`, true);
  return { status };
}
