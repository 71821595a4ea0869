import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ANALYTICS_EVENT_TYPES,
  type AnalyticsEvent,
  counterFields,
  decodeEvent,
  encodeEvent,
} from "../../../src/core/analytics/event.js";
import { stageOf } from "../../../src/core/analytics/stage.js";
import type { FlowDefinition } from "../../../src/core/ruleset/schemas.js";

const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,20}$/);
const event: fc.Arbitrary<AnalyticsEvent> = fc.record(
  {
    type: fc.constantFrom(...ANALYTICS_EVENT_TYPES),
    at: fc
      .date({ min: new Date("2020-01-01"), max: new Date("2030-01-01"), noInvalidDate: true })
      .map((d) => d.toISOString()),
    accountId: id,
    instanceId: id,
    flow: id,
    flowVersion: fc.integer({ min: 1, max: 999 }),
    segment: id,
    stepId: id,
    stage: id,
    experiment: id,
    variant: id,
    rule: id,
    from: id,
    outcome: id,
    value: fc.integer({ min: -1000, max: 1000 }),
  },
  { requiredKeys: ["type", "at", "accountId", "flow"] },
);

describe("analytics events", () => {
  it("survive the trip through stream fields unchanged", () => {
    fc.assert(
      fc.property(event, (e) => {
        expect(decodeEvent(encodeEvent(e))).toEqual(e);
      }),
    );
  });

  it("ignore stream entries that are not analytics events", () => {
    expect(decodeEvent(["type", "outcome", "accountId", "a", "data", "{}"])).toBeUndefined();
    expect(
      decodeEvent(["type", "bogus", "at", "2026-01-01T00:00:00Z", "accountId", "a", "flow", "f"]),
    ).toBeUndefined();
  });

  it("fold into counters per flow, version, segment and step", () => {
    const base = { at: "2026-01-02T03:04:05Z", accountId: "a", flow: "fast-track", segment: "smb" } as const;
    expect(counterFields({ ...base, type: "decision", flowVersion: 2 })).toEqual([
      "started|flow=fast-track|seg=smb",
      "started|flow=fast-track|v=2",
    ]);
    expect(counterFields({ ...base, type: "step.completed", stepId: "s1" })).toEqual([
      "stepdone|flow=fast-track|step=s1|seg=smb",
    ]);
    expect(counterFields({ ...base, type: "outcome", outcome: "nps", value: 9 })).toEqual([
      "outcome=nps|flow=fast-track|seg=smb",
      "nps=promoter|flow=fast-track|seg=smb",
    ]);
    expect(counterFields({ ...base, type: "outcome", outcome: "nps", value: 6 })[1]).toBe(
      "nps=detractor|flow=fast-track|seg=smb",
    );
  });

  it("never carry an email or a free-text field", () => {
    const fields = encodeEvent({
      type: "outcome",
      at: "2026-01-01T00:00:00Z",
      accountId: "acme",
      flow: "f",
      ...({ email: "x@example.com", data: { note: "hi" } } as object),
    } as AnalyticsEvent);
    expect(fields.join(" ")).not.toContain("example.com");
    expect(fields).not.toContain("data");
  });
});

describe("lifecycle stage", () => {
  const flow = {
    id: "f",
    steps: [
      { id: "a", type: "action", stage: "onboarding" },
      { id: "b", type: "wait" },
      { id: "c", type: "task", stage: "adopting" },
      { id: "d", type: "end" },
    ],
  } as unknown as FlowDefinition;

  it("is the current step's stage, else the nearest earlier one", () => {
    expect(stageOf(flow, "a")).toBe("onboarding");
    expect(stageOf(flow, "b")).toBe("onboarding");
    expect(stageOf(flow, "d")).toBe("adopting");
    expect(stageOf(flow, null)).toBeUndefined();
    expect(stageOf(flow, "zz")).toBeUndefined();
  });
});
