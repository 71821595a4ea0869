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
