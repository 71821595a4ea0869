import { readFileSync } from "node:fs";
import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { parseSalesforceOutbound, salesforceAck } from "../../../src/adapters/crm/salesforce.js";

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), "utf8");

describe("Salesforce outbound message parsing", () => {
  it("reads the org, the notification id and the Opportunity's fields of a one-notification message", () => {
    const result = parseSalesforceOutbound(fixture("salesforce-outbound.xml"));
    if (!result.ok) throw new Error(result.error);
    expect(result.value.organizationId).toBe("00D5e000000ABCDEAA");
    expect(result.value.actionId).toBe("04k5e000000XyZaAAK");
    expect(result.value.sessionId).toBeUndefined();
    expect(result.value.notifications).toHaveLength(1);
    const [n] = result.value.notifications;
    expect(n?.id).toBe("04l5e00000D1cQvAAJ");
    expect(n?.sObjectType).toBe("Opportunity");
    expect(n?.fields).toMatchObject({
      Id: "0065e00000HkLmNAAV",
      AccountId: "0015e00000Qr7StAAJ",
      Amount: "96000.0",
      CloseDate: "2025-03-28",
      CurrencyIsoCode: "EUR",
    });
  });

  it("keeps ids and numbers as the exact text sent", () => {
    const result = parseSalesforceOutbound(fixture("salesforce-outbound.xml"));
    expect(result.ok && result.value.notifications[0]?.fields.Account_Employees__c).toBe("850");
  });

  it("decodes the predefined XML entities in values", () => {
    const result = parseSalesforceOutbound(fixture("salesforce-outbound.xml"));
    expect(result.ok && result.value.notifications[0]?.fields.Account_Name__c).toBe("Globex & Sons GmbH");
  });

  it("leaves nil fields out", () => {
    const result = parseSalesforceOutbound(fixture("salesforce-outbound.xml"));
    expect(result.ok && "Description" in result.value.notifications[0]!.fields).toBe(false);
  });

  it("takes every notification of a batch, in order", () => {
    const result = parseSalesforceOutbound(fixture("salesforce-outbound-batch.xml"));
    if (!result.ok) throw new Error(result.error);
    expect(result.value.sessionId).toBe("00D5e000000ABCD!AQ0AQHm1r2sT");
    expect(result.value.notifications.map((n) => n.id)).toEqual([
      "04l5e00000D1cQwAAJ",
      "04l5e00000D1cQxAAJ",
      "04l5e00000D1cQyAAJ",
    ]);
    expect(result.value.notifications[1]?.fields.Name).toBe("Hooli <pilot>");
    expect(result.value.notifications[1]?.fields.AccountId).toBeUndefined();
  });

  it("refuses a document with a DOCTYPE", () => {
    const xml = fixture("salesforce-outbound.xml").replace(
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE foo SYSTEM "file:///etc/passwd">',
    );
    expect(parseSalesforceOutbound(xml)).toEqual({ ok: false, error: "doctype_forbidden" });
  });

  it("refuses a billion-laughs entity bomb before parsing it", () => {
    const bomb = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<lolz>&lol3;</lolz>`;
    expect(parseSalesforceOutbound(bomb)).toEqual({ ok: false, error: "doctype_forbidden" });
  });

  it("refuses an ENTITY declaration whatever its case or spacing", () => {
    expect(parseSalesforceOutbound('<a><!  entity x "y"></a>')).toEqual({
      ok: false,
      error: "doctype_forbidden",
    });
  });

  it("answers malformed XML with an error value", () => {
    const xml = fixture("salesforce-outbound.xml").replace("</notifications>", "");
    expect(parseSalesforceOutbound(xml)).toEqual({ ok: false, error: "malformed_xml" });
  });

  it("answers well-formed XML that is not an outbound message with an error value", () => {
    expect(parseSalesforceOutbound("<hello>world</hello>")).toEqual({
      ok: false,
      error: "not_outbound_message",
    });
  });

  it("refuses a body over the size limit", () => {
    expect(parseSalesforceOutbound(fixture("salesforce-outbound.xml"), { maxBytes: 100 })).toEqual({
      ok: false,
      error: "too_large",
    });
  });
});

describe("the Salesforce acknowledgement", () => {
  it("is a SOAP notificationsResponse with Ack true in the outbound namespace", () => {
    const doc = new XMLParser({ ignoreAttributes: false }).parse(salesforceAck());
    const response = doc["soapenv:Envelope"]["soapenv:Body"].notificationsResponse;
    expect(response["@_xmlns"]).toBe("http://soap.sforce.com/2005/09/outbound");
    expect(response.Ack).toBe(true);
    expect(doc["soapenv:Envelope"]["@_xmlns:soapenv"]).toBe("http://schemas.xmlsoap.org/soap/envelope/");
  });
});
