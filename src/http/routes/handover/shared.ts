import { z } from "zod";
import { storeHandover } from "../../../adapters/redis/handover-store.js";
import { parseCanonicalHandover } from "../../../core/handover/parse.js";
import type { CanonicalHandover } from "../../../core/handover/schema.js";
import { ApiError, detailOf } from "../../errors.js";
import type { RouterServices } from "../../services.js";

export const handoverAcceptedSchema = z
  .object({ handoverId: z.string(), accountId: z.string(), duplicate: z.boolean() })
  .meta({ id: "HandoverAccepted", example: { handoverId: "ho_…", accountId: "acme", duplicate: false } });

/** 422 with paths unless the value is a canonical handover. */
export function requireCanonical(value: unknown, prefix = ""): CanonicalHandover {
  const r = parseCanonicalHandover(value);
  if (r.ok) return r.value;
  const errors = r.error.map((e) => ({ path: prefix ? `${prefix}.${e.path}` : e.path, message: e.message }));
  throw new ApiError("validation_failed", detailOf(errors), errors);
}

export { storeHandover };

/** The URL the sender signed: PUBLIC_BASE_URL + path + query when configured, else the request URL. */
export function signedUrl(svc: RouterServices, requestUrl: string): string {
  if (!svc.settings.publicBaseUrl) return requestUrl;
  const u = new URL(requestUrl);
  return `${svc.settings.publicBaseUrl}${u.pathname}${u.search}`;
}

const secretCache = new Map<string, unknown>();
/** Memoises a per-process parse of configured secrets (the parse imports keys lazily). */
export function memo<T>(key: string, make: () => T): T {
  if (!secretCache.has(key)) secretCache.set(key, make());
  return secretCache.get(key) as T;
}
