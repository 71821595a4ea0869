import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { buildTestApp, type TestApp } from "../support/app.js";

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ redisUrl: inject("redisUrl") });
});
afterAll(async () => {
  await t.close();
});

describe("/admin/queues", () => {
  it("asks a browser for credentials with a Basic challenge when none are sent", async () => {
    const res = await t.app.request("/admin/queues");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Basic /);
    expect((await res.json()).code).toBe("unauthorized");
  });

  it("refuses the api token with 403", async () => {
    const res = await t.app.request("/admin/queues", {
      headers: { authorization: `Bearer ${t.tokens.api}` },
    });
    expect(res.status).toBe(403);
  });

  it("serves the board and its queue API to the admin token, as Bearer or Basic", async () => {
    const page = await t.app.request("/admin/queues", {
      headers: { authorization: `Bearer ${t.tokens.admin}` },
    });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<html");
    const basic = `Basic ${btoa(`ops:${t.tokens.admin}`)}`;
    const api = await t.app.request("/admin/queues/api/queues", { headers: { authorization: basic } });
    expect(api.status).toBe(200);
    const body = await api.json();
    expect(body.queues.map((q: { name: string }) => q.name)).toContain("flow");
  });
});

describe("/console", () => {
  it("challenges a browser without credentials and serves the page to the admin token", async () => {
    const anonymous = await t.app.request("/console");
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Basic /);
    const api = await t.app.request("/console", { headers: { authorization: `Bearer ${t.tokens.api}` } });
    expect(api.status).toBe(403);
    const basic = `Basic ${btoa(`ops:${t.tokens.admin}`)}`;
    const page = await t.app.request("/console", { headers: { authorization: basic } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(await page.text()).toContain("<html");
  });
});
