import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "../../src/http/openapi.js";
import { adminRulesEndpoints } from "../../src/http/routes/admin/rules-endpoints.js";

describe("admin rules endpoints in OpenAPI", () => {
  it("render into a valid OpenAPI 3.1 document with admin security on every path", async () => {
    const doc = buildOpenApiDocument(adminRulesEndpoints, "test") as {
      paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>;
    };
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(Object.keys(doc.paths).sort()).toEqual([
      "/v1/admin/audit",
      "/v1/admin/decisions/{decisionId}",
      "/v1/admin/rules",
      "/v1/admin/rules/backtest",
      "/v1/admin/rules/rollback",
      "/v1/admin/rules/simulate",
      "/v1/admin/rules/validate",
      "/v1/admin/rules/versions",
      "/v1/admin/rules/versions/{version}",
    ]);
    for (const methods of Object.values(doc.paths))
      for (const op of Object.values(methods)) {
        expect(op.security).toEqual([{ adminToken: [] }]);
        expect(op.responses["403"]).toBeDefined();
      }
  });
});
