import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";

const SECRETS = {
  ROUTER_API_TOKEN: "api-token-0123456789",
  ROUTER_ADMIN_TOKEN: "admin-token-0123456789",
  HANDOVER_WEBHOOK_SECRET: "whsec_aGFuZG92ZXItc2VjcmV0LTAxMjM0NTY3ODk=",
  OUTBOUND_WEBHOOK_SECRET: "whsec_b3V0Ym91bmQtc2VjcmV0LTAxMjM0NTY3ODk=",
};

function config(env: Record<string, string>) {
  const r = parseConfig({ ...SECRETS, ...env });
  if (!r.ok) throw new Error(`${r.error.variable} ${r.error.message}`);
  return r.config;
}
function error(env: Record<string, string>) {
  const r = parseConfig({ ...SECRETS, ...env });
  if (r.ok) throw new Error("expected a configuration error");
  return r.error;
}

describe("environment parsing (CONTRACT.md Running it)", () => {
  it("uses the documented defaults when nothing is set", () => {
    const c = config({});
    expect(c.port).toBe(8787);
    expect(c.rulesDir).toBe("./rules");
    expect(c.redis).toBeUndefined();
    expect(c.rulesAutopublish).toBe(true);
    expect(c.decisionTtlSeconds).toBe(30 * 86_400);
    expect(c.publicKeys).toEqual([]);
    expect(c.hubspotClientSecret).toBeUndefined();
    expect(c.salesforce).toBeUndefined();
    expect(c.outboundAllowedHosts).toBeUndefined();
    expect(c.webhookSubscribers).toEqual([]);
    expect(c.corsOrigins).toEqual([]);
    expect(c.rateLimitPerMinute).toBe(0);
    expect(c.logLevel).toBe("info");
  });

  it("treats an empty value (KEY= in an env file) as unset", () => {
    const c = config({ PORT: "", REDIS_URL: "", RULES_DIR: " ", CORS_ORIGINS: "", LOG_LEVEL: "" });
    expect(c.port).toBe(8787);
    expect(c.redis).toBeUndefined();
    expect(c.rulesDir).toBe("./rules");
  });

  it("ignores whitespace around a value", () => {
    expect(config({ PORT: " 9090 " }).port).toBe(9090);
    expect(config({ ROUTER_API_TOKEN: " api-token-0123456789 " }).apiTokens).toEqual([
      "api-token-0123456789",
    ]);
  });

  it("accepts every token of a comma list (rotation), spaces around commas ignored", () => {
    const c = config({
      ROUTER_API_TOKEN: "old-token-0123456789, new-token-0123456789",
      ROUTER_ADMIN_TOKEN: "adm-old-0123456789,adm-new-0123456789",
      ROUTER_PUBLIC_KEY: "pk-one-0123456789,pk-two-0123456789",
    });
    expect(c.apiTokens).toEqual(["old-token-0123456789", "new-token-0123456789"]);
    expect(c.adminTokens).toEqual(["adm-old-0123456789", "adm-new-0123456789"]);
    expect(c.publicKeys).toEqual(["pk-one-0123456789", "pk-two-0123456789"]);
  });

  it("accepts short tokens (the contract sets no length) and warns about them without their value", () => {
    const c = config({
      ROUTER_API_TOKEN: "t1",
      ROUTER_PUBLIC_KEY: "pk",
      SALESFORCE_ORG_IDS: "00D000000000001AAA",
      SALESFORCE_TOKEN: "s",
    });
    expect(c.apiTokens).toEqual(["t1"]);
    expect(c.publicKeys).toEqual(["pk"]);
    expect(c.salesforce?.token).toBe("s");
    expect(c.warnings).toEqual([
      "ROUTER_API_TOKEN holds a value shorter than 16 characters: easy to guess",
      "ROUTER_PUBLIC_KEY holds a value shorter than 16 characters: easy to guess",
    ]);
    expect(config({}).warnings).toEqual([]);
  });

  it("accepts a space list of whsec_ secrets, the first signing outbound", () => {
    const c = config({
      HANDOVER_WEBHOOK_SECRET:
        "whsec_aGFuZG92ZXItc2VjcmV0LTAxMjM0NTY3ODk= whsec_b3V0Ym91bmQtc2VjcmV0LTAxMjM0NTY3ODk=",
      OUTBOUND_WEBHOOK_SECRET:
        "whsec_Zmlyc3Qtb3V0Ym91bmQtc2VjcmV0LTAxMjM= whsec_c2Vjb25kLW91dGJvdW5kLXNlY3JldC0wMTI=",
    });
    expect(c.handoverSecrets).toEqual([
      "whsec_aGFuZG92ZXItc2VjcmV0LTAxMjM0NTY3ODk=",
      "whsec_b3V0Ym91bmQtc2VjcmV0LTAxMjM0NTY3ODk=",
    ]);
    expect(c.outboundSecrets[0]).toBe("whsec_Zmlyc3Qtb3V0Ym91bmQtc2VjcmV0LTAxMjM=");
  });

  it("reads a comma list of redis:// nodes as a Redis Cluster and one URL as a single node", () => {
    expect(config({ REDIS_URL: "redis://a:7000, redis://b:7001" }).redis).toEqual({
      urls: ["redis://a:7000", "redis://b:7001"],
      cluster: true,
    });
    expect(config({ REDIS_URL: "rediss://u:p@h:6380/2" }).redis).toEqual({
      urls: ["rediss://u:p@h:6380/2"],
      cluster: false,
    });
  });

  it("reads RULES_AUTOPUBLISH and LOG_LEVEL whatever their case", () => {
    expect(config({ RULES_AUTOPUBLISH: "FALSE" }).rulesAutopublish).toBe(false);
    expect(config({ RULES_AUTOPUBLISH: "True" }).rulesAutopublish).toBe(true);
    expect(config({ LOG_LEVEL: "DEBUG" }).logLevel).toBe("debug");
  });

  it("reduces OUTBOUND_ALLOWED_HOSTS entries to host names, as outbound calls compare them", () => {
    expect(
      config({
        OUTBOUND_ALLOWED_HOSTS: "Hooks.Example.com, https://api.example.com/x, 127.0.0.1:9999, [::1]:80",
      }).outboundAllowedHosts,
    ).toEqual(["hooks.example.com", "api.example.com", "127.0.0.1", "::1"]);
  });

  it("takes a CORS origin written with a trailing slash as that origin", () => {
    expect(config({ CORS_ORIGINS: "https://app.example.com/, http://localhost:3000" }).corsOrigins).toEqual([
      "https://app.example.com",
      "http://localhost:3000",
    ]);
  });

  it.each([
    ["PORT", { PORT: "abc" }],
    ["PORT", { PORT: "0" }],
    ["PORT", { PORT: "65536" }],
    ["PORT", { PORT: "80.5" }],
    ["REDIS_URL", { REDIS_URL: "localhost:6379" }],
    ["REDIS_URL", { REDIS_URL: "http://redis.example" }],
    ["REDIS_URL", { REDIS_URL: "redis://" }],
    ["REDIS_URL", { REDIS_URL: "redis://h:99999" }],
    ["PUBLIC_BASE_URL", { PUBLIC_BASE_URL: "ftp://files.example" }],
    ["PUBLIC_BASE_URL", { PUBLIC_BASE_URL: "example.com" }],
    ["WEBHOOK_SUBSCRIBERS", { WEBHOOK_SUBSCRIBERS: "https://ok.example, javascript:alert(1)" }],
    ["RULES_AUTOPUBLISH", { RULES_AUTOPUBLISH: "maybe" }],
    ["DECISION_TTL_DAYS", { DECISION_TTL_DAYS: "0" }],
    ["DECISION_TTL_DAYS", { DECISION_TTL_DAYS: "thirty" }],
    ["HANDOVER_WEBHOOK_SECRET", { HANDOVER_WEBHOOK_SECRET: "not-a-whsec" }],
    ["HANDOVER_WEBHOOK_SECRET", { HANDOVER_WEBHOOK_SECRET: "whsec_abcde" }],
    ["HANDOVER_WEBHOOK_SECRET", { HANDOVER_WEBHOOK_SECRET: "whsec_ab=cd" }],
    ["HANDOVER_WEBHOOK_SECRET", { HANDOVER_WEBHOOK_SECRET: "whsec_AA==" }],
    [
      "OUTBOUND_WEBHOOK_SECRET",
      { OUTBOUND_WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_AA==" },
    ],
    ["REDIS_URL", { REDIS_URL: "redis://h:6379/abc" }],
    ["REDIS_URL", { REDIS_URL: "redis://a:6379,rediss://b:6379" }],
    ["CORS_ORIGINS", { CORS_ORIGINS: "https://a b.com" }],
    ["CORS_ORIGINS", { CORS_ORIGINS: "https://a.example.com:99999" }],
    ["CORS_ORIGINS", { CORS_ORIGINS: "https://u:p@a.example.com" }],
    ["SALESFORCE_ORG_IDS", { SALESFORCE_ORG_IDS: "00D000000000001", SALESFORCE_TOKEN: "sf-token-123" }],
    ["SALESFORCE_TOKEN", { SALESFORCE_ORG_IDS: "00D000000000001AAA" }],
    ["CORS_ORIGINS", { CORS_ORIGINS: "*" }],
    ["RATE_LIMIT_PER_MINUTE", { RATE_LIMIT_PER_MINUTE: "lots" }],
    ["LOG_LEVEL", { LOG_LEVEL: "verbose" }],
  ] as const)("names %s when its value is bad", (variable, env) => {
    const e = error(env);
    expect(e.variable).toBe(variable);
    expect(e.message).not.toContain("\n");
  });

  it.each([
    "redis://user:hunter2-secret@h:notaport",
    "redis://admin:Pa@ssW0rdSecret@10.0.0.5:63790x",
    "rediss://default:Zx9/Qw+hunter2@redis.example.com:6380",
  ])("never echoes a password from REDIS_URL in its error (%#)", (url) => {
    const e = error({ REDIS_URL: url });
    expect(e.variable).toBe("REDIS_URL");
    expect(e.message).not.toMatch(/hunter2|ssW0rd/);
  });

  it.each([
    ["ROUTER_PUBLIC_KEY", { ROUTER_PUBLIC_KEY: `pk-browser-0123456789,${SECRETS.ROUTER_API_TOKEN}` }],
    ["ROUTER_ADMIN_TOKEN", { ROUTER_PUBLIC_KEY: SECRETS.ROUTER_ADMIN_TOKEN }],
    ["ROUTER_ADMIN_TOKEN", { ROUTER_ADMIN_TOKEN: `${SECRETS.ROUTER_API_TOKEN},admin-two-0123456789` }],
  ] as const)("refuses a token listed in two scopes, naming %s", (variable, env) => {
    const e = error(env);
    expect(e.variable).toBe(variable);
    expect(e.message).toMatch(/also in ROUTER_(API_TOKEN|PUBLIC_KEY)/);
    expect(e.message).not.toContain(SECRETS.ROUTER_API_TOKEN);
  });

  it("keeps a database number and normalises CORS origins as browsers send them", () => {
    expect(config({ REDIS_URL: "redis://h:6379/3" }).redis?.urls).toEqual(["redis://h:6379/3"]);
    expect(
      config({ CORS_ORIGINS: "https://App.Example.com:443, http://localhost:3000" }).corsOrigins,
    ).toEqual(["https://app.example.com", "http://localhost:3000"]);
  });

  it.each(["production", "Production", " PRODUCTION "])(
    "requires every secret when NODE_ENV is %j and nothing is generated",
    (nodeEnv) => {
      const r = parseConfig({ NODE_ENV: nodeEnv });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.variable).toBe("ROUTER_API_TOKEN");
    },
  );
});
