import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, contractCases, FAST_TRACK_ANSWERS, freshAccount } from "./contract-cases.js";
import { type Entry, type Stack, startStack } from "./stack.js";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ node: true });
});

afterAll(async () => {
  await stack?.stop();
});

const entryNamed = (name: "node" | "edge") => (): Entry => {
  const e = stack.entries[name];
  if (!e) throw new Error(`${name} entry not started`);
  return e;
};

describe.each(["node", "edge"] as const)("the HTTP contract on the %s entry", (name) => {
  contractCases(entryNamed(name));
});

describe("both entries side by side", () => {
  it("decide the same flow, step and reasons for the same request", async () => {
    const answers = { ...FAST_TRACK_ANSWERS, teamSize: 400, supportStyle: "guided" };
    const [node, edge] = await Promise.all(
      (["node", "edge"] as const).map(async (name) => {
        const e = entryNamed(name)();
        const res = await call(e, "POST", "/v1/route", {
          body: { accountId: freshAccount(e, "same"), survey: { answers } },
        });
        expect(res.status).toBe(200);
        const { flow, step, reasons, ruleset, reused } = res.body as Record<string, unknown>;
        return { flow, step, reasons, ruleset, reused };
      }),
    );
    expect(edge).toEqual(node);
  });

  it("let the Node entry read what the edge wrote", async () => {
    const edge = entryNamed("edge")();
    const accountId = freshAccount(edge, "cross");
    const routed = (
      await call(edge, "POST", "/v1/route", { body: { accountId, survey: { answers: FAST_TRACK_ANSWERS } } })
    ).body as { instanceId: string };
    const again = await call(entryNamed("node")(), "POST", "/v1/route", {
      body: { accountId, survey: { answers: FAST_TRACK_ANSWERS } },
    });
    expect(again.body).toMatchObject({ instanceId: routed.instanceId, reused: true });
  });
});
