import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildFacts,
  computeHandoverGaps,
  type HandoverView,
  normalizeIndustry,
} from "../../src/core/facts.js";
import { SettingsSchema } from "../../src/core/ruleset/index.js";

const settings = SettingsSchema.parse({
  defaultFlow: "high-touch",
  currency: "USD",
  fx: { EUR: 1.1, GBP: 1.25 },
  revenueTiers: [
    { id: "starter", maxAnnualValue: 10000 },
    { id: "growth", maxAnnualValue: 50000 },
    { id: "strategic", maxAnnualValue: null },
  ],
  regulatedIndustries: ["Financial Services", "healthcare"],
});
const now = new Date("2026-01-15T09:00:00Z");
const handover = (over: Partial<Record<string, unknown>> = {}): HandoverView => ({
  accountId: "acme",
  account: { name: "Acme", industry: "Financial Services", region: "EMEA", employees: 250 },
  deal: {
    id: "d1",
    amount: 40000,
    currency: "EUR",
    closedAt: "2026-01-05",
    products: ["core", "sso", "core"],
  },
  contacts: [
    { email: "a@x.example", role: "executive_sponsor" },
    { email: "b@x.example", role: "decision_maker" },
  ],
  goals: ["faster onboarding"],
  requirements: { sso: true },
  goLiveDate: "2026-03-01",
  ...over,
});
const facts = (h?: HandoverView, extra: { userId?: string; role?: string } = {}) =>
  buildFacts({ accountId: "acme", answers: { teamSize: 3 }, handover: h, now, settings, ...extra });

describe("buildFacts", () => {
  it("derives the account facts from a handover", () => {
    expect(facts(handover()).account).toEqual({
      id: "acme",
      segment: "mid_market",
      revenueTier: "growth",
      annualValue: 44000,
      regulated: true,
      region: "EMEA",
      industry: "financial_services",
      tenureDays: 10,
      productCount: 2,
      handoverGaps: [],
      hasHandover: true,
    });
  });

  it("converts the deal amount into the settings currency before picking the tier", () => {
    const tier = (amount: number, currency: string) =>
      facts(handover({ deal: { amount, currency, closedAt: "2026-01-01", products: [] } })).account;
    expect(tier(10000, "USD")).toMatchObject({ annualValue: 10000, revenueTier: "starter" });
    expect(tier(10000, "GBP")).toMatchObject({ annualValue: 12500, revenueTier: "growth" });
    expect(tier(1_000_000, "usd")).toMatchObject({ revenueTier: "strategic" });
    expect(tier(5000, "ISK")).toMatchObject({ annualValue: 0, revenueTier: "unknown" });
  });

  it("counts tenure in whole days since the deal closed, never negative", () => {
    const tenure = (closedAt: string) =>
      facts(handover({ deal: { amount: 1, currency: "USD", closedAt, products: [] } })).account.tenureDays;
    expect(tenure("2026-01-14T09:00:01Z")).toBe(0);
    expect(tenure("2025-12-16")).toBe(30);
    expect(tenure("2026-02-01")).toBe(0);
  });

  it("segments by head count, else by the customer's revenue", () => {
    const seg = (account: Record<string, unknown>) =>
      facts(handover({ account: { industry: "Retail", region: "NA", ...account } })).account.segment;
    expect(seg({ employees: 99 })).toBe("smb");
    expect(seg({ employees: 100 })).toBe("mid_market");
    expect(seg({ employees: 1000 })).toBe("enterprise");
    expect(seg({ annualRevenue: 2e9 })).toBe("enterprise");
    expect(seg({})).toBe("unknown");
  });

  it("gives the rules the handover with the industry normalised, leaving the stored handover as sent", () => {
    const h = handover();
    const f = facts(h);
    expect((f.handover as HandoverView).account?.industry).toBe("financial_services");
    expect(h.account?.industry).toBe("Financial Services");
  });

  it("marks an account without a handover as unknown with the no_handover gap", () => {
    const f = facts(undefined, { userId: "u_1", role: "admin" });
    expect(f.handover).toBeUndefined();
    expect(f.account).toMatchObject({
      segment: "unknown",
      revenueTier: "unknown",
      hasHandover: false,
      handoverGaps: ["no_handover"],
      regulated: false,
    });
    expect(f.user).toEqual({ id: "u_1", role: "admin" });
    expect(f.now).toBe("2026-01-15T09:00:00.000Z");
    expect(f.survey).toEqual({ teamSize: 3 });
  });

  it("leaves user fields out when they are not given", () => {
    expect(facts(undefined).user).toEqual({});
  });
});

describe("computeHandoverGaps", () => {
  it("lists what a thin handover lacks", () => {
    expect(
      computeHandoverGaps(
        handover({
          contacts: [{ email: "c@x.example", role: "admin" }],
          goals: [],
          requirements: {},
          goLiveDate: undefined,
        }),
      ),
    ).toEqual([
      "no_executive_sponsor",
      "no_decision_maker",
      "no_goals",
      "no_go_live_date",
      "missing_requirements",
    ]);
    expect(computeHandoverGaps(handover())).toEqual([]);
    expect(computeHandoverGaps(undefined)).toEqual(["no_handover"]);
  });
});

describe("normalizeIndustry", () => {
  it("turns free text into lower snake case", () => {
    expect(normalizeIndustry("Financial Services")).toBe("financial_services");
    expect(normalizeIndustry("  Health-Care ")).toBe("health_care");
    expect(normalizeIndustry("Banking & Insurance")).toBe("banking_insurance");
    expect(normalizeIndustry("Télécom")).toBe("telecom");
  });

  it("is idempotent and yields only [a-z0-9_] without edge underscores", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const n = normalizeIndustry(s);
        expect(normalizeIndustry(n)).toBe(n);
        expect(n).toMatch(/^(?:[a-z0-9]+(?:_[a-z0-9]+)*)?$/);
      }),
    );
  });
});
