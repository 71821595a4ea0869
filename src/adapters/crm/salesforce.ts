import { XMLParser, XMLValidator } from "fast-xml-parser";
import { err, ok, type Result } from "../../core/result.js";

/**
 * Salesforce Outbound Messages: a SOAP `notifications` call holding up to 100 `Notification`s,
 * each with the sObject's selected fields. Pure JS (no `node:` imports), so it runs on both entries.
 * https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_wsdl.htm
 */

export type SalesforceNotification = {
  /** The notification id (dedupe key for redeliveries), not the record id. */
  readonly id: string;
  /** `Opportunity`, `Account`, … (from `xsi:type="sf:Opportunity"`). */
  readonly sObjectType: string;
  /** Field values as sent, keyed without the `sf:` prefix (`Id`, `AccountId`, `Amount`, …). Nil fields are absent. */
  readonly fields: Readonly<Record<string, string>>;
};

export type SalesforceOutboundMessage = {
  readonly organizationId: string;
  readonly actionId: string;
  readonly sessionId?: string;
  readonly notifications: readonly SalesforceNotification[];
};

export type SalesforceParseError =
  | "doctype_forbidden"
  | "too_large"
  | "malformed_xml"
  | "not_outbound_message";

/** Salesforce sends at most 100 notifications per message. */
export const MAX_NOTIFICATIONS = 100;
const DEFAULT_MAX_BYTES = 1024 * 1024;

// Any DTD is refused before parsing: entity expansion (billion laughs) and external entities (XXE)
// both need one, and Salesforce never sends one.
const DTD = /<!\s*(?:DOCTYPE|ENTITY)/i;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  removeNSPrefix: true,
  // Strings are stored verbatim (CONTRACT.md): a field's surrounding spaces are its own.
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  htmlEntities: false,
  isArray: (name) => name === "Notification",
});

// With entity processing off, the five predefined XML entities and character references are decoded
// here in one pass (so `&amp;lt;` stays `&lt;`), and nothing else is ever expanded.
const PREDEFINED: Readonly<Record<string, string>> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function decodeXmlText(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});/g, (whole, name: string) => {
    if (name[0] !== "#") return PREDEFINED[name] ?? whole;
    const code = name[1] === "x" ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

type Node = Record<string, unknown>;

const isNode = (v: unknown): v is Node => typeof v === "object" && v !== null && !Array.isArray(v);

function text(value: unknown): string | undefined {
  if (typeof value === "string") return decodeXmlText(value);
  if (isNode(value) && typeof value["#text"] === "string") return decodeXmlText(value["#text"]);
  return undefined;
}

function stripPrefix(qualified: string): string {
  const colon = qualified.indexOf(":");
  return colon < 0 ? qualified : qualified.slice(colon + 1);
}

function readNotification(node: unknown): SalesforceNotification | undefined {
  if (!isNode(node)) return undefined;
  const id = text(node.Id);
  const sObject = node.sObject;
  if (!id || !isNode(sObject)) return undefined;
  const type = typeof sObject["@_type"] === "string" ? stripPrefix(sObject["@_type"]) : "";
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(sObject)) {
    if (key.startsWith("@_")) continue;
    if (isNode(value) && value["@_nil"] === "true") continue;
    // An empty element (`<sf:Description/>`) arrives as "" and is kept as "".
    const v = value === "" ? "" : text(value);
    if (v !== undefined) fields[key] = v;
  }
  return { id, sObjectType: type, fields };
}

/** Parses a Salesforce Outbound Message body; refuses DTDs, malformed XML and anything that is not `notifications`. */
export function parseSalesforceOutbound(
  xml: string,
  options: { readonly maxBytes?: number } = {},
): Result<SalesforceOutboundMessage, SalesforceParseError> {
  if (xml.length > (options.maxBytes ?? DEFAULT_MAX_BYTES)) return err("too_large");
  if (DTD.test(xml)) return err("doctype_forbidden");
  if (XMLValidator.validate(xml) !== true) return err("malformed_xml");

  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch {
    return err("malformed_xml");
  }
  const envelope = isNode(doc) ? doc.Envelope : undefined;
  const body = isNode(envelope) ? envelope.Body : undefined;
  const notifications = isNode(body) ? body.notifications : undefined;
  if (!isNode(notifications)) return err("not_outbound_message");

  const organizationId = text(notifications.OrganizationId);
  const actionId = text(notifications.ActionId) ?? "";
  const list = notifications.Notification;
  if (!organizationId || !Array.isArray(list) || list.length === 0 || list.length > MAX_NOTIFICATIONS) {
    return err("not_outbound_message");
  }
  const parsed: SalesforceNotification[] = [];
  for (const node of list) {
    const n = readNotification(node);
    if (!n) return err("not_outbound_message");
    parsed.push(n);
  }
  const sessionId = text(notifications.SessionId);
  return ok({ organizationId, actionId, ...(sessionId ? { sessionId } : {}), notifications: parsed });
}

/** The SOAP body Salesforce expects once every notification of a message is stored (`Content-Type: text/xml`). */
export function salesforceAck(): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">' +
    "<soapenv:Body>" +
    '<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse>' +
    "</soapenv:Body>" +
    "</soapenv:Envelope>"
  );
}
