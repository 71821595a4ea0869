import { describe, expect, it } from "vitest";
import {
  decodeInstance,
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
