import { z } from "zod";
import { canonicalHandoverSchema } from "../../../core/handover/schema.js";
import {
  parseWebhookSecrets,
  verifyWebhook,
  type WebhookSecret,
} from "../../../core/signing/standard-webhooks.js";
import { assertJsonMediaType, decodeText, parseJsonBody, readBodyCapped } from "../../body.js";
import type { Endpoint } from "../../context.js";
import { ApiError } from "../../errors.js";
import type { RouterServices } from "../../services.js";
import { handoverAcceptedSchema, memo, requireCanonical, storeHandover } from "./shared.js";

const REASONS: Record<string, string> = {
  missing_headers: "Send webhook-id, webhook-timestamp and webhook-signature (Standard Webhooks)",
  invalid_headers: "The webhook headers are malformed",
  stale_timestamp: "webhook-timestamp is more than 5 minutes away from now",
  bad_signature: "No webhook-signature matches the body with a configured secret",
};

/** The Standard Webhooks headers (documented; the signature check reads them from the request). */
const webhookHeadersSchema = z.object({
  "webhook-id": z.string().meta({ description: "unique per message; a redelivery repeats it" }),
  "webhook-timestamp": z.string().meta({ description: "seconds since the epoch" }),
  "webhook-signature": z
    .string()
    .meta({ description: "space list of `v1,<base64 HMAC-SHA256 of id.timestamp.body>`" }),
});

/** `POST /v1/handover`: the canonical sales→service handover, signed with Standard Webhooks. */
export const postHandover: Endpoint<RouterServices> = {
  method: "POST",
  path: "/v1/handover",
  scopes: [],
  openapi: {
    tags: ["handover"],
    summary: "Receive the canonical sales→service handover (Standard Webhooks signed)",
    description:
      "Signed with Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`, HMAC-SHA256 with a `whsec_` secret, 5-minute tolerance). The same `webhook-id` within 72 h answers 202 with the original handoverId and `duplicate: true`.",
    request: {
      headers: webhookHeadersSchema,
      body: { content: { "application/json": { schema: canonicalHandoverSchema } }, required: true },
    },
    responses: {
      202: {
        description: "Stored (or a duplicate delivery)",
        content: { "application/json": { schema: handoverAcceptedSchema } },
      },
      401: { description: "missing or bad signature, or a timestamp over 5 minutes off" },
    },
  },
  handler: async (c, svc) => {
    const bytes = await readBodyCapped(c);
    const secrets = memo(`whsec:${svc.settings.handoverSecrets.join(" ")}`, () => {
      const r = parseWebhookSecrets(svc.settings.handoverSecrets.join(" "));
      return r.ok ? r.value : ([] as WebhookSecret[]);
    });
    const verified = await verifyWebhook({
      secrets,
      headers: c.req.raw.headers,
      body: bytes,
      nowSeconds: Math.floor(svc.clock.now().getTime() / 1000),
    });
    if (!verified.ok) {
      throw new ApiError("unauthorized", REASONS[verified.error] ?? "The webhook signature is not valid");
    }
    assertJsonMediaType(c);
    decodeText(bytes);
    const handover = requireCanonical(parseJsonBody(bytes, "depth"));
    const out = await storeHandover(svc, handover, `sw-${verified.value.id}`, "webhook");
    return c.json(out, 202);
  },
};
