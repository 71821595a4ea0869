import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, expectProblem } from "./contract-cases.js";
import { type Stack, startStack } from "./stack.js";

let stack: Stack;

beforeAll(async () => {
  // An empty binding is unset: the edge runs under production rules, so nothing is generated.
  stack = await startStack({ edgeVars: { ROUTER_API_TOKEN: "" } });
});

afterAll(async () => {
  await stack?.stop();
});

describe("an edge deployment without ROUTER_API_TOKEN", () => {
  it("stays live on /healthz: the isolate runs, a restart would change nothing", async () => {
    const res = await call(stack.entries.edge, "GET", "/healthz");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it.each([
    ["GET", "/readyz"],
    ["POST", "/v1/route"],
    ["GET", "/nowhere"],
  ])("answers %s %s with 503 unavailable naming the variable", async (method, path) => {
    const res = await call(stack.entries.edge, method, path, { body: {} });
    expectProblem(res, 503, "unavailable");
    expect((res.body as { detail: string }).detail).toContain("ROUTER_API_TOKEN");
  });

  it("logs the configuration error once, not per request", async () => {
    await call(stack.entries.edge, "GET", "/readyz");
    const lines = () =>
      stack.edge
        .output()
        .split("\n")
        .filter((l) => l.includes("configuration error: ROUTER_API_TOKEN"));
    // workerd's console reaches wrangler's output a little after the answer on a busy machine.
    await expect.poll(() => lines().length, { timeout: 5_000 }).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(lines()).toHaveLength(1);
  });

  it("keeps the secret values out of its answers and logs", async () => {
    const res = await call(stack.entries.edge, "GET", "/readyz");
    expect(res.text).not.toContain("whsec_");
    expect(stack.edge.output()).not.toContain("whsec_");
  });
});
