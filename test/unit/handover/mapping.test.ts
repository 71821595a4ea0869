import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseSalesforceOutbound } from "../../../src/adapters/crm/salesforce.js";
import { applyMapping, mapHandover, readPath } from "../../../src/core/handover/mapping.js";
import { type HandoverMapping, handoverMappingSchema } from "../../../src/core/handover/mapping-schema.js";

const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), "utf8");
const loadMapping = (name: string): HandoverMapping =>
  handoverMappingSchema.parse(JSON.parse(read(`rules/handover-mappings/${name}`)));
const hubspotPayload = () => JSON.parse(read("test/fixtures/hubspot-deal.json"));

function sfNotifications(file: string) {
  const parsed = parseSalesforceOutbound(read(`test/fixtures/${file}`));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value.notifications;
}

describe("the shipped HubSpot mapping", () => {
  const mapping = loadMapping("hubspot.json");

  it("maps the fixture deal into a handover that passes the canonical schema", () => {
    const result = mapHandover(mapping, hubspotPayload());
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect(result.value).toMatchObject({
      accountId: "9876543210",
      account: { name: "Acme Corp", industry: "FINANCIAL_SERVICES", region: "EMEA", employees: 1200 },
      deal: {
        id: "18034554678",
        amount: 48000,
        currency: "EUR",
        products: ["router-pro", "sso-addon"],
        termMonths: 12,
      },
      requirements: { sso: true, integrations: ["Salesforce", "Slack"], dataResidency: "EU" },
      goLiveDate: "2025-05-01",
    });
    expect(result.value.contacts).toEqual([
      { email: "dana.reyes@acme.example", name: "Dana Reyes", role: "executive_sponsor" },
      { email: "priya.nair@acme.example", name: "Priya Nair", role: "decision_maker" },
      { email: "ops@acme.example", role: "end_user" },
    ]);
  });

  it("uses the deal's id as accountId when no company is associated", () => {
    const { company: _c, ...payload } = hubspotPayload();
    const result = mapHandover(mapping, payload);
    expect(result.ok && result.value.accountId).toBe("18034554678");
  });

  it("turns an epoch-milliseconds closedate into ISO 8601", () => {
    const payload = hubspotPayload();
    payload.deal.properties.closedate = "1743433451245";
    const result = mapHandover(mapping, payload);
    expect(result.ok && result.value.deal.closedAt).toBe("2025-03-31T15:04:11.245Z");
  });

  it("reports an amount that is not a number at deal.amount", () => {
    const payload = hubspotPayload();
    payload.deal.properties.amount = "48k";
    const result = mapHandover(mapping, payload);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error[0]?.path).toBe("deal.amount");
  });

  it("maps ISO country codes and common names to regions, and an unlisted country to NA rather than refusing the deal", () => {
    for (const [country, region] of [
      ["US", "NA"],
      ["UK", "EMEA"],
      ["Portugal", "EMEA"],
      ["Hong Kong", "APAC"],
      ["Deutschland", "EMEA"],
      ["Atlantis", "NA"],
    ]) {
      const payload = hubspotPayload();
      payload.company.properties.country = country;
      const result = mapHandover(mapping, payload);
      if (!result.ok) throw new Error(JSON.stringify(result.error));
      expect(result.value.account.region, country).toBe(region);
    }
  });

  it("takes the company from CRM v3 associations when no company object is sent", () => {
    const { company: _c, ...payload } = hubspotPayload();
    payload.deal.associations = { companies: { results: [{ id: "777001", type: "deal_to_company" }] } };
    const result = mapHandover(mapping, payload);
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect(result.value.accountId).toBe("777001");
  });

  it("reads a contact's role from its first labelled association, after HubSpot's unlabelled default", () => {
    const payload = hubspotPayload();
    payload.contacts[0].associationTypes = [
      { category: "HUBSPOT_DEFINED", typeId: 3, label: null },
      { category: "USER_DEFINED", typeId: 7, label: "Executive sponsor" },
    ];
    const result = mapHandover(mapping, payload);
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect(result.value.contacts[0]?.role).toBe("executive_sponsor");
  });

  it("maps a flat workflow body (hs_object_id, dealname, amount at the top) and a deal without an amount", () => {
    const flat = { hs_object_id: "9001", dealname: "Flat Co", amount: "1200", closedate: "2025-03-31" };
    const result = mapHandover(mapping, flat);
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect(result.value).toMatchObject({
      accountId: "9001",
      account: { name: "Flat Co" },
      deal: { id: "9001", amount: 1200 },
    });
    const { amount: _a, ...noAmount } = flat;
    const zero = mapHandover(mapping, noAmount);
    expect(zero.ok && zero.value.deal.amount).toBe(0);
  });
});

describe("the shipped Salesforce mapping", () => {
  const mapping = loadMapping("salesforce.json");

  it("maps the one-notification fixture into a handover that passes the canonical schema", () => {
    const [n] = sfNotifications("salesforce-outbound.xml");
    const result = mapHandover(mapping, n);
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect(result.value).toMatchObject({
      accountId: "0015e00000Qr7StAAJ",
      account: { name: "Globex & Sons GmbH", industry: "Financial Services", region: "EMEA", employees: 850 },
      deal: {
        id: "0065e00000HkLmNAAV",
        amount: 96000,
        currency: "EUR",
        closedAt: "2025-03-28",
        termMonths: 24,
      },
      contacts: [{ email: "m.weber@globex.example", name: "Maria Weber", role: "decision_maker" }],
      requirements: { sso: true, integrations: ["SAP", "Slack"] },
      goLiveDate: "2025-05-15",
    });
  });

  it("maps every notification of a batch, using the Opportunity Id when AccountId is nil", () => {
    const results = sfNotifications("salesforce-outbound-batch.xml").map((n) => mapHandover(mapping, n));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.map((r) => r.ok && r.value.accountId)).toEqual([
      "0015e00000Qr7SuAAJ",
      "0065e00000HkLmPAAV",
      "0015e00000Qr7SwAAJ",
    ]);
    expect(results.map((r) => r.ok && r.value.contacts)).toEqual([[], [], []]);
  });
});

describe("the mapping language", () => {
  const map = (fields: unknown, payload: unknown) =>
    applyMapping(handoverMappingSchema.parse({ fields }), payload);

  it("takes the first present source and falls back to the default", () => {
    expect(map({ a: { from: ["x", "y"], default: "d" } }, { x: "", y: "Y" })).toEqual({
      ok: true,
      value: { a: "Y" },
    });
    expect(map({ a: { from: ["x", "y"], default: "d" } }, { x: null })).toEqual({
      ok: true,
      value: { a: "d" },
    });
  });

  it("matches map keys exactly first, then case-insensitively, else uses otherwise", () => {
    const rule = { from: "r", map: { Europe: "EMEA", europe: "wrong-if-first" }, otherwise: "NA" };
    expect(map({ a: rule }, { r: "Europe" })).toEqual({ ok: true, value: { a: "EMEA" } });
    expect(map({ a: rule }, { r: "EUROPE" })).toEqual({ ok: true, value: { a: "EMEA" } });
    expect(map({ a: rule }, { r: "Mars" })).toEqual({ ok: true, value: { a: "NA" } });
  });

  it("reads from the payload root inside each with $.", () => {
    const result = map(
      { xs: { each: "items", fields: { n: { from: "n" }, deal: { from: "$.deal" } } } },
      {
        deal: "D",
        items: [{ n: 1 }, { n: 2 }],
      },
    );
    expect(result).toEqual({
      ok: true,
      value: {
        xs: [
          { n: 1, deal: "D" },
          { n: 2, deal: "D" },
        ],
      },
    });
  });

  it("caps each at its max", () => {
    const result = map(
      { xs: { each: "items", max: 2, fields: { n: { from: "n" } } } },
      {
        items: [{ n: 1 }, { n: 2 }, { n: 3 }],
      },
    );
    expect(result.ok && (result.value as { xs: unknown[] }).xs).toHaveLength(2);
  });

  it("does not read inherited properties such as __proto__ or constructor", () => {
    expect(readPath({}, "constructor")).toBeUndefined();
    expect(readPath({ a: { b: 1 } }, "a.toString")).toBeUndefined();
    expect(handoverMappingSchema.safeParse({ fields: { a: { from: "__proto__.x" } } }).success).toBe(false);
    expect(handoverMappingSchema.safeParse({ fields: { "__proto__.polluted": { value: 1 } } }).success).toBe(
      false,
    );
  });

  it("refuses a mapping file with unknown rule keys", () => {
    expect(handoverMappingSchema.safeParse({ fields: { a: { from: "x", eval: "1+1" } } }).success).toBe(
      false,
    );
  });

  it("reports every conversion failure at its target path", () => {
    const result = map(
      { n: { from: "n", as: "number" }, b: { from: "b", as: "boolean" }, i: { from: "i", as: "integer" } },
      { n: "1,5", b: "maybe", i: "2.5" },
    );
    expect(!result.ok && result.error.map((e) => e.path)).toEqual(["n", "b", "i"]);
  });
});
