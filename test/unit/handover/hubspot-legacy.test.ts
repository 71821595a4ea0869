import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { mapHandover } from "../../../src/core/handover/mapping.js";
import type { HandoverMapping } from "../../../src/core/handover/mapping-schema.js";

const mapping = JSON.parse(readFileSync("rules/handover-mappings/hubspot.json", "utf8")) as HandoverMapping;
const legacy = JSON.parse(readFileSync("test/fixtures/hubspot-deal-v1.json", "utf8"));

describe("the shipped HubSpot mapping", () => {
  it("maps the legacy deal JSON a deal-based workflow webhook posts", () => {
    const r = mapHandover(mapping, legacy);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({
      accountId: "9876543211",
      account: { name: "Globex - Router Pro - FY26", region: "NA" },
      deal: { id: "18034554679", amount: 72000, currency: "USD", products: ["router-pro", "analytics"] },
      contacts: [],
    });
    expect(r.value.deal.closedAt.startsWith("2025-11-23")).toBe(true);
  });

  it("falls back to the deal id when the deal has no associated company", () => {
    const { associations: _a, ...noCompany } = legacy;
    const r = mapHandover(mapping, noCompany);
    expect(r.ok && r.value.accountId).toBe("18034554679");
  });

  it("maps a flat v3 deal object ({ id, properties })", () => {
    const r = mapHandover(mapping, {
      id: "555",
      properties: {
        dealname: "Initech",
        amount: "12000",
        closedate: "2026-01-15",
        deal_currency_code: "GBP",
      },
    });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.deal).toMatchObject({ id: "555", amount: 12000, currency: "GBP" });
  });
});

describe("HubSpot date properties and contacts", () => {
  it("turns a go-live date sent as epoch milliseconds (legacy or v3) into its calendar date", () => {
    const withDate = {
      ...legacy,
      properties: { ...legacy.properties, go_live_date: { value: "1746057600000", versions: [] } },
    };
    const r = mapHandover(mapping, withDate);
    expect(r.ok && r.value.goLiveDate).toBe("2025-05-01");
    const v3 = JSON.parse(readFileSync("test/fixtures/hubspot-deal.json", "utf8"));
    v3.deal.properties.go_live_date = "1746057600000";
    const r3 = mapHandover(mapping, v3);
    expect(r3.ok && r3.value.goLiveDate).toBe("2025-05-01");
    v3.deal.properties.go_live_date = "2025-05-01T00:00:00.000Z";
    const iso = mapHandover(mapping, v3);
    expect(iso.ok && iso.value.goLiveDate).toBe("2025-05-01");
  });

  it("leaves out a contact without an email instead of refusing the deal", () => {
    const v3 = JSON.parse(readFileSync("test/fixtures/hubspot-deal.json", "utf8"));
    const contacts = v3.contacts as { properties: Record<string, unknown> }[];
    expect(contacts.length).toBeGreaterThan(0);
    const kept = contacts.length;
    contacts.push({ ...contacts[0], properties: { firstname: "No", lastname: "Email", email: "" } });
    const r = mapHandover(mapping, v3);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.contacts).toHaveLength(kept);
      expect(r.value.contacts.map((c) => c.name)).not.toContain("No Email");
    }
  });
});

describe("the shipped region tables", () => {
  it.each([
    ["Slovakia", "EMEA"],
    ["Saudi Arabia", "EMEA"],
    ["Indonesia", "APAC"],
    ["Uruguay", "LATAM"],
  ])("place a company in %s in %s rather than the NA fallback", (country, region) => {
    const v3 = JSON.parse(readFileSync("test/fixtures/hubspot-deal.json", "utf8"));
    v3.company.properties.sales_region = "";
    v3.company.properties.country = country;
    const r = mapHandover(mapping, v3);
    expect(r.ok && r.value.account.region).toBe(region);
  });
});
