import { describe, expect, it } from "vitest";
import { parseEdgeConfig } from "../../../src/adapters/edge/config.js";
import { parseConfig } from "../../../src/config.js";

const bindings = {
  REDIS_URL: "redis://127.0.0.1:6399",
  ROUTER_API_TOKEN: "api-token-0123456789abcdef",
  HANDOVER_WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString("base64")}`,
};

describe("edge configuration", () => {
  it.each([
    ["unset", {}],
    ["empty", { REDIS_KEY_PREFIX: "" }],
    ["set", { REDIS_KEY_PREFIX: "tenant-a:" }],
  ])("uses the same Redis key prefix as Node when REDIS_KEY_PREFIX is %s", (_, extra) => {
    const edge = parseEdgeConfig({ ...bindings, ...extra });
    const node = parseConfig({
      ...bindings,
      ...extra,
      NODE_ENV: "production",
      ROUTER_ADMIN_TOKEN: "a".repeat(24),
      OUTBOUND_WEBHOOK_SECRET: bindings.HANDOVER_WEBHOOK_SECRET,
    });
    if (!edge.ok || !node.ok) throw new Error(JSON.stringify([edge, node]));
    expect(edge.config.keyPrefix).toBe(node.config.keyPrefix);
    expect(edge.config.keyPrefix).toBe(
      "REDIS_KEY_PREFIX" in extra && extra.REDIS_KEY_PREFIX ? extra.REDIS_KEY_PREFIX : "or:",
    );
  });

  it("refuses a bad prefix naming the variable", () => {
    const edge = parseEdgeConfig({ ...bindings, REDIS_KEY_PREFIX: "a b" });
    expect(edge.ok).toBe(false);
    if (!edge.ok) expect(edge.error.variable).toBe("REDIS_KEY_PREFIX");
  });
});
