import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCanonicalHandover } from "../../../src/core/handover/parse.js";
import { canonicalHandoverExample, MAX_CONTACTS } from "../../../src/core/handover/schema.js";

// biome-ignore lint/suspicious/noExplicitAny: the tests write deliberately wrong types into the example
type Mutable = Record<string, any>;
const example = (): Mutable => structuredClone(canonicalHandoverExample) as Mutable;

function pathsOf(input: unknown): string[] {
  const result = parseCanonicalHandover(input);
  return result.ok ? [] : result.error.map((i) => i.path);
}

function parseOk(input: unknown) {
  const result = parseCanonicalHandover(input);
  if (!result.ok) throw new Error(JSON.stringify(result.error));
  return result.value;
}

describe("the canonical handover schema", () => {
  it("accepts the documented example", () => {
    expect(parseCanonicalHandover(example()).ok).toBe(true);
  });

  it("takes a contact email with surrounding spaces and keeps it verbatim, but not one without an @", () => {
    const input = example();
    input.contacts[0].email = " cfo@acme.example ";
    expect(parseOk(input).contacts[0]?.email).toBe(" cfo@acme.example ");
    input.contacts[0].email = " cfo at acme ";
    expect(pathsOf(input)).toEqual(["contacts.0.email"]);
  });

  it("keeps strings verbatim, surrounding spaces included", () => {
    const input = example();
    input.account.name = "  Acme Corp ";
    const result = parseCanonicalHandover(input);
    expect(result.ok && result.value.account.name).toBe("  Acme Corp ");
  });

  it("accepts a minimal handover without the optional fields", () => {
    const { goals: _g, requirements: _r, goLiveDate: _d, ...minimal } = example();
    minimal.contacts = [];
    expect(parseCanonicalHandover(minimal).ok).toBe(true);
  });

  it("rejects a region outside NA, EMEA, APAC, LATAM at account.region", () => {
    const input = example();
    input.account.region = "EU";
    expect(pathsOf(input)).toEqual(["account.region"]);
  });

  it.each(["eur", "EURO", "E1R", ""])("rejects the currency %j at deal.currency", (currency) => {
    const input = example();
    input.deal.currency = currency;
    expect(pathsOf(input)).toEqual(["deal.currency"]);
  });

  it("rejects a bad email at contacts.0.email", () => {
    const input = example();
    input.contacts[0].email = "dana at acme";
    expect(pathsOf(input)).toEqual(["contacts.0.email"]);
  });

  it("rejects an unknown contact role at contacts.0.role", () => {
    const input = example();
    input.contacts[0].role = "champion";
    expect(pathsOf(input)).toEqual(["contacts.0.role"]);
  });

  it.each(["yesterday", "31/03/2025", "2025-02-30", "2025-03-31T17:00:00", "1743379200000"])(
    "rejects the closedAt %j at deal.closedAt",
    (closedAt) => {
      const input = example();
      input.deal.closedAt = closedAt;
      expect(pathsOf(input)).toEqual(["deal.closedAt"]);
    },
  );

  it.each(["2025-03-31", "2025-03-31T17:00:00Z", "2025-03-31T17:00:00.123+02:00"])(
    "accepts the closedAt %j",
    (closedAt) => {
      const input = example();
      input.deal.closedAt = closedAt;
      expect(parseCanonicalHandover(input).ok).toBe(true);
    },
  );

  it("rejects a negative or textual amount at deal.amount", () => {
    for (const amount of [-1, "48000"]) {
      const input = example();
      input.deal.amount = amount;
      expect(pathsOf(input)).toEqual(["deal.amount"]);
    }
  });

  it("rejects an accountId outside the id pattern", () => {
    const input = example();
    input.accountId = "acme corp/1";
    expect(pathsOf(input)).toEqual(["accountId"]);
  });

  it("ignores unknown keys at every level and keeps none of them (a sender may add fields)", () => {
    const input = example();
    input.source = "zapier";
    input.deal.stage = "closedwon";
    input.contacts[0].phone = "+1";
    input.account.website = "https://acme.example";
    input.requirements.sla = "gold";
    const result = parseCanonicalHandover(input);
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect(result.value).toEqual(parseOk(example()));
    expect(JSON.stringify(result.value)).not.toMatch(/zapier|closedwon|\+1|website|gold/);
  });

  it("takes an optional field sent as null as absent, and names a required one sent as null", () => {
    const input = example();
    input.account.employees = null;
    input.deal.termMonths = null;
    input.goals = null;
    input.requirements = null;
    input.notes = null;
    const result = parseCanonicalHandover(input);
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect(result.value.account.employees).toBeUndefined();
    expect("goals" in result.value).toBe(false);
    const missing = example();
    missing.deal.id = null;
    expect(pathsOf(missing)).toEqual(["deal.id"]);
  });

  it("still names a misspelt required field", () => {
    const { accountId: _a, ...input } = example();
    input.acountId = "acme-corp";
    expect(pathsOf(input)).toEqual(["accountId"]);
  });

  it("accepts the addresses CRMs hold that a strict check refuses, and refuses what is no address", () => {
    for (const email of ["ops@intranet", "x@y.z", "first.last+tag@sub.example.co.uk"]) {
      const input = example();
      input.contacts[0].email = email;
      expect(pathsOf(input)).toEqual([]);
    }
    for (const email of ["no-at-sign", "two@@x", "a b@x.example", "@x.example", "x@"]) {
      const input = example();
      input.contacts[0].email = email;
      expect(pathsOf(input)).toEqual(["contacts.0.email"]);
    }
  });

  it("reports every fault at once", () => {
    const input = example();
    input.account.region = "EU";
    input.deal.currency = "eur";
    expect(pathsOf(input)).toEqual(["account.region", "deal.currency"]);
  });

  it("rejects more contacts than the limit", () => {
    const input = example();
    input.contacts = Array.from({ length: MAX_CONTACTS + 1 }, (_, i) => ({
      email: `u${i}@a.example`,
      role: "end_user",
    }));
    expect(pathsOf(input)).toEqual(["contacts"]);
  });

  it("rejects over-long strings", () => {
    const input = example();
    input.account.industry = "x".repeat(2001);
    expect(pathsOf(input)).toEqual(["account.industry"]);
  });

  it("never throws, whatever JSON it is given", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        parseCanonicalHandover(value);
        return true;
      }),
      { numRuns: 300 },
    );
  });
});
