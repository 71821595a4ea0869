import { describe, expect, it } from "vitest";
import { createDecider, hashToUnit, pickVariant } from "../../../src/core/decision/index.js";
import { facts, rule } from "./build.js";

const variants = [
  { flow: "control", weight: 70 },
  { flow: "guided", weight: 20 },
  { flow: "self-serve", weight: 10 },
];

describe("experiment assignment", () => {
  it("splits 10,000 subjects within 2 points of the declared weights", () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const v = pickVariant("onboarding-2024", `acct-${i}:user-${i % 7}`, variants)!;
      counts.set(v.flow, (counts.get(v.flow) ?? 0) + 1);
    }
    expect(Math.abs(counts.get("control")! / 10_000 - 0.7)).toBeLessThan(0.02);
    expect(Math.abs(counts.get("guided")! / 10_000 - 0.2)).toBeLessThan(0.02);
    expect(Math.abs(counts.get("self-serve")! / 10_000 - 0.1)).toBeLessThan(0.02);
  });

  it("gives a subject the same variant every time and a known hash on every runtime", () => {
    expect(hashToUnit("exp:acme:u_1")).toBe(hashToUnit("exp:acme:u_1"));
    // Golden values from an independent FNV-1a + fmix32 over UTF-8 bytes (Python).
    expect(hashToUnit("")).toBe(0.6689221884589642);
    expect(hashToUnit("exp:acme:u_1")).toBe(0.8966637863777578);
    expect(hashToUnit("é🙂")).toBe(0.2790092886425555);
    const first = pickVariant("exp", "acme:u_1", variants);
    for (let i = 0; i < 100; i++) expect(pickVariant("exp", "acme:u_1", variants)).toBe(first);
  });

  it("never picks a variant without weight and uses the first when none has weight", () => {
    const oneLive = [
      { flow: "off", weight: 0 },
      { flow: "on", weight: 1 },
    ];
    for (let i = 0; i < 200; i++) expect(pickVariant("e", `s${i}`, oneLive)?.flow).toBe("on");
    expect(pickVariant("e", "s", [{ flow: "only", weight: 0 }])?.flow).toBe("only");
  });

  it.each(["compiled", "reference"] as const)(
    "routes the %s decision to the variant and says so",
    async (mode) => {
      const exp = rule("trial", { all: [] }, { experiment: "trial-2024", variants });
      const decision = await createDecider([exp], "default", { mode }).decide(facts(), "acme:u_9");
      const expected = pickVariant("trial-2024", "acme:u_9", variants)!.flow;
      expect(decision.flow).toBe(expected);
      expect(decision.experiment).toEqual({ id: "trial-2024", variant: expected });
      expect(decision.reasons[0]?.experiment).toEqual({ id: "trial-2024", variant: expected });
    },
  );
});
