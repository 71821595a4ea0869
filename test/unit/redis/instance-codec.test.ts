import { describe, expect, it } from "vitest";
import {
  decodeInstance,
  decodeInstanceSummary,
  encodeInstance,
  INSTANCE_FIELD_ARGS,
  pushInstanceFields,
} from "../../../src/adapters/redis/instance-codec.js";
import type { InstanceState } from "../../../src/core/flow/instance.js";

const base: InstanceState = {
  id: "fi_0123456789abcdef",
  accountId: "acme",
  subject: "",
  flowId: "guided-start",
  flowVersion: 2,
  rulesetVersion: 7,
  status: "active",
  stepId: "welcome",
  stepStatus: "pending",
  stepEnteredAt: 1_700_000_000_000,
  rev: 1,
  attempt: 0,
  createdAt: 1_700_000_000_000,
  updatedAt: 1_700_000_000_000,
  decisionId: "dec_YWNtZQ_abcdefgh12345678",
  factsKey: "k1",
  reasons: [],
  input: { answers: { teamSize: 4 } },
  entered: ["welcome"],
};

const full: InstanceState = {
  ...base,
  userId: "u_1",
  subject: "u_1",
  stepId: null,
  stepDueAt: 1_700_000_500_000,
  error: "boom",
  experiment: { id: "exp", variant: "fast-track" },
};

describe("the instance's HSET arguments", () => {
  it.each([
    ["a minimal instance", base],
    ["an instance with every optional field", full],
  ])("are the encoded hash fields in order, and decode back, for %s", (_name, state) => {
    const args: (string | number)[] = ["before"];
    pushInstanceFields(state, args);
    expect(args.slice(1)).toEqual(Object.entries(encodeInstance(state)).flat());
    expect(args.length - 1).toBe(INSTANCE_FIELD_ARGS);
    expect(decodeInstance(args.slice(1) as string[])).toEqual(state);
  });
});

describe("an instance hash in the older one-field-per-property form", () => {
  const legacy = (s: InstanceState): Record<string, string> => ({
    id: s.id,
    accountId: s.accountId,
    userId: s.userId ?? "",
    subject: s.subject,
    flowId: s.flowId,
    flowVersion: String(s.flowVersion),
    rulesetVersion: String(s.rulesetVersion),
    status: s.status,
    stepId: s.stepId ?? "",
    stepStatus: s.stepStatus,
    stepEnteredAt: String(s.stepEnteredAt),
    stepDueAt: s.stepDueAt === undefined ? "" : String(s.stepDueAt),
    rev: String(s.rev),
    attempt: String(s.attempt),
    createdAt: String(s.createdAt),
    updatedAt: String(s.updatedAt),
    decisionId: s.decisionId,
    factsKey: s.factsKey,
    reasons: JSON.stringify(s.reasons),
    input: JSON.stringify(s.input),
    entered: JSON.stringify(s.entered),
    error: s.error ?? "",
    experiment: s.experiment ? JSON.stringify(s.experiment) : "",
  });

  it.each([
    ["a minimal instance", base],
    ["an instance with every optional field", full],
  ])("still decodes to the same state, for %s", (_name, state) => {
    expect(decodeInstance(legacy(state))).toEqual(state);
  });

  it("is read by the compact fields once a transition rewrote it", () => {
    const moved: InstanceState = { ...base, rev: 2, stepStatus: "waiting" };
    expect(decodeInstance({ ...legacy(base), ...encodeInstance(moved) })).toEqual(moved);
  });

  it("gives the same summary in both forms", () => {
    const l = legacy(full);
    const fromLegacy = decodeInstanceSummary([null, l.flowId!, l.flowVersion!, l.stepId!, l.status!]);
    const fromCompact = decodeInstanceSummary([encodeInstance(full).state!, null, null, null, null]);
    expect(fromLegacy).toEqual({ flowId: "guided-start", flowVersion: 2, stepId: null, status: "active" });
    expect(fromCompact).toEqual(fromLegacy);
    expect(decodeInstanceSummary([null, null, null, null, null])).toBeUndefined();
  });
});
