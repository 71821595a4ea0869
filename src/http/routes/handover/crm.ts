import { z } from "zod";
import {
  parseSalesforceOutbound,
  type SalesforceParseError,
  salesforceAck,
} from "../../../adapters/crm/salesforce.js";
import { mapHandover } from "../../../core/handover/mapping.js";
import type { HandoverMapping } from "../../../core/handover/mapping-schema.js";
import type { CanonicalHandover } from "../../../core/handover/schema.js";
import { verifyHubSpotV3 } from "../../../core/signing/hubspot.js";
import { constantTimeEqual } from "../../auth.js";
import {
  assertIdentityEncoding,
  assertJsonMediaType,
  decodeText,
  parseJsonBody,
  readBodyCapped,
} from "../../body.js";
import type { Endpoint } from "../../context.js";
import { ApiError, detailOf, type FieldError } from "../../errors.js";
import type { RouterServices } from "../../services.js";
import { handoverAcceptedSchema, signedUrl, storeHandover } from "./shared.js";

async function mappingFor(svc: RouterServices, name: string): Promise<HandoverMapping> {
  const rules = await svc.rules.active();
  const mapping = rules?.ruleset.files[`handover-mappings/${name}.json`];
  if (!mapping) throw new ApiError("unavailable", `No handover-mappings/${name}.json in the active ruleset`);
  return mapping as HandoverMapping;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `POST /v1/handover/hubspot`: a HubSpot workflow webhook (signature v3), mapped to the canonical handover. */
export const postHubspotHandover: Endpoint<RouterServices> = {
  method: "POST",
  path: "/v1/handover/hubspot",
  scopes: [],
  openapi: {
    tags: ["handover"],
    summary: "Receive a HubSpot deal webhook (X-HubSpot-Signature-v3)",
    description:
      "Verified with HUBSPOT_CLIENT_SECRET over method + full URL (PUBLIC_BASE_URL when set) + body + timestamp, 5-minute tolerance; mapped through rules/handover-mappings/hubspot.json. A redelivery of the same body is a duplicate. 503 when HUBSPOT_CLIENT_SECRET is unset.",
    request: {
      headers: z.object({
        "x-hubspot-signature-v3": z.string().meta({ description: "base64 HMAC-SHA256" }),
        "x-hubspot-request-timestamp": z.string().meta({ description: "milliseconds since the epoch" }),
      }),
      body: {
        content: { "application/json": { schema: z.record(z.string(), z.unknown()) } },
        required: true,
      },
    },
    responses: {
      202: {
        description: "Stored (or a duplicate)",
        content: { "application/json": { schema: handoverAcceptedSchema } },
      },
      401: { description: "missing or bad signature, or a timestamp over 5 minutes off" },
    },
  },
  handler: async (c, svc) => {
    const secret = svc.settings.hubspotClientSecret;
    if (!secret)
      throw new ApiError("unavailable", "HubSpot intake is not configured (HUBSPOT_CLIENT_SECRET)");
    const bytes = await readBodyCapped(c);
    // The signature comes before the media type and syntax (CONTRACT.md's order for signed
    // webhooks): it is checked over a lenient decode, and bytes that are not UTF-8 get their 400
    // only from a signed request with a JSON media type.
    const verified = await verifyHubSpotV3({
      clientSecret: secret,
      method: c.req.method,
      uri: signedUrl(svc, c.req.url),
      body: LENIENT_UTF8.decode(bytes),
      headers: c.req.raw.headers,
      nowMs: svc.clock.now().getTime(),
    });
    if (!verified.ok) throw new ApiError("unauthorized", `HubSpot signature check failed: ${verified.error}`);
    assertJsonMediaType(c);
    decodeText(bytes);
    const payload = parseJsonBody(bytes, "depth");
    if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
      // HubSpot's webhook subscriptions post arrays of change events, which carry no deal data.
      const message =
        "expected one deal object (a workflow webhook with the deal, company and contacts), not an array of subscription events or a bare value";
      throw new ApiError("validation_failed", `(body): ${message}`, [{ path: "(body)", message }]);
    }
    const mapped = mapHandover(await mappingFor(svc, "hubspot"), payload);
    if (!mapped.ok) throw new ApiError("validation_failed", detailOf(mapped.error), mapped.error);
    const out = await storeHandover(svc, mapped.value, `hs-${await sha256Hex(bytes)}`, "hubspot");
    return c.json(out, 202);
  },
};

const LENIENT_UTF8 = new TextDecoder();

const XML_MEDIA = /^(?:text|application)\/(?:soap\+)?xml\s*(?:;.*)?$/i;

const SF_PARSE: Record<SalesforceParseError, string> = {
  doctype_forbidden: "XML with a DOCTYPE or ENTITY declaration is refused",
  too_large: "The message is too large",
  malformed_xml: "The body is not well-formed XML",
  not_outbound_message: "The body is not a Salesforce Outbound Message (notifications/Notification)",
};

/** `POST /v1/handover/salesforce?token=…`: a Salesforce Outbound Message batch; answered with the SOAP Ack. */
export const postSalesforceHandover: Endpoint<RouterServices> = {
  method: "POST",
  path: "/v1/handover/salesforce",
  scopes: [],
  openapi: {
    tags: ["handover"],
    summary: "Receive a Salesforce Outbound Message (SOAP)",
    description:
      "Authenticated with `?token=` (SALESFORCE_TOKEN) and an allow-listed OrganizationId (SALESFORCE_ORG_IDS; unknown org → 403). Every notification is mapped through rules/handover-mappings/salesforce.json and stored (idempotent on the notification Id) before the SOAP `notificationsResponse`/`Ack true` is returned. XML with a DOCTYPE is 400.",
    request: {
      query: z.object({ token: z.string() }),
      body: {
        content: { "text/xml": { schema: z.string().meta({ description: "SOAP Outbound Message" }) } },
        required: true,
      },
    },
    responses: {
      200: { description: "SOAP acknowledgement", content: { "text/xml": { schema: z.string() } } },
      400: { description: "not well-formed XML, a DOCTYPE/ENTITY, or not an Outbound Message" },
      401: { description: "missing or wrong ?token=" },
      403: { description: "OrganizationId not in SALESFORCE_ORG_IDS" },
      415: { description: "not text/xml" },
    },
  },
  handler: async (c, svc) => {
    const sf = svc.settings.salesforce;
    if (!sf)
      throw new ApiError(
        "unavailable",
        "Salesforce intake is not configured (SALESFORCE_ORG_IDS, SALESFORCE_TOKEN)",
      );
    const bytes = await readBodyCapped(c);
    const token = c.req.query("token") ?? "";
    if (!constantTimeEqual(token, sf.token))
      throw new ApiError("unauthorized", "The ?token= is missing or wrong");
    assertIdentityEncoding(c);
    const ct = c.req.header("content-type") ?? "";
    if (!XML_MEDIA.test(ct.trim()))
      throw new ApiError("unsupported_media_type", "Send the Outbound Message as text/xml");
    const parsed = parseSalesforceOutbound(decodeText(bytes));
    if (!parsed.ok) throw new ApiError("bad_request", SF_PARSE[parsed.error]);
    const mapping = await mappingFor(svc, "salesforce");
    const handovers: { h: CanonicalHandover; id: string }[] = [];
    const errors: FieldError[] = [];
    parsed.value.notifications.forEach((n, i) => {
      const m = mapHandover(mapping, n);
      if (m.ok) handovers.push({ h: m.value, id: n.id });
      else for (const e of m.error) errors.push({ path: `notifications.${i}.${e.path}`, message: e.message });
    });
    if (errors.length > 0) throw new ApiError("validation_failed", detailOf(errors), errors);
    if (!sf.orgIds.includes(parsed.value.organizationId)) {
      throw new ApiError("forbidden", "This Salesforce organization is not allowed (SALESFORCE_ORG_IDS)");
    }
    for (const { h, id } of handovers) await storeHandover(svc, h, `sf-${id}`, "salesforce");
    return c.body(salesforceAck(), 200, { "content-type": "text/xml; charset=utf-8" });
  },
};
