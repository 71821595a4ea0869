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

describe("/admin/queues changes", () => {
  const basic = () => `Basic ${btoa(`ops:${t.tokens.admin}`)}`;
  const jobsIn = async (queue: string) => {
    const res = await t.app.request("/admin/queues/api/queues", { headers: { authorization: basic() } });
    const q = (await res.json()).queues.find((x: { name: string }) => x.name === queue);
    return Object.values(q.counts as Record<string, number>).reduce((a, b) => a + b, 0);
  };
  const add = (headers: Record<string, string>, body: string) =>
    t.app.request("/admin/queues/api/queues/flow-outbound/add", {
      method: "POST",
      headers: { authorization: basic(), ...headers },
      body,
    });
  const job = JSON.stringify({
    name: "notify",
    data: {
      kind: "notify",
      id: "forged-1",
      event: "flow.completed",
      accountId: "victim",
      instanceId: "fi_x",
    },
  });

  it("refuses a cross-site post (a browser resends Basic credentials by itself) and a form's text/plain body", async () => {
    const before = await jobsIn("flow-outbound");
    const crossSite = await add(
      { "content-type": "application/json", origin: "https://evil.example", "sec-fetch-site": "cross-site" },
      job,
    );
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const foreignOrigin = await add(
      { "content-type": "application/json", origin: "https://evil.example" },
      job,
    );
    expect(foreignOrigin.status).toBe(403);
    const form = await add({ "content-type": "text/plain" }, job);
    expect(form.status).toBe(415);
    const huge = await add(
      { "content-type": "application/json" },
      `{"name":"notify","data":{"x":"${"a".repeat(70_000)}"}}`,
    );
    expect(huge.status).toBe(413);
    expect(await jobsIn("flow-outbound")).toBe(before);
    // The board's own page (same origin) still adds jobs.
    const sameOrigin = await add(
      { "content-type": "application/json", origin: "http://localhost", "sec-fetch-site": "same-origin" },
      job,
    );
    expect(sameOrigin.status).toBe(200);
    expect(await jobsIn("flow-outbound")).toBe(before + 1);
  });

  it("answers a malformed Basic header with the 401 challenge, not 500", async () => {
    for (const header of ["Basic a", "Basic =a"]) {
      const res = await t.app.request("/admin/queues/api/queues", { headers: { authorization: header } });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Basic /);
    }
    expect((await t.app.request("/console", { headers: { authorization: "Basic a" } })).status).toBe(401);
  });

  it("answers the board's own errors as problem+json, and a change to a page with 405", async () => {
    const missing = await t.app.request("/admin/queues/api/queues/nope/jobs/1", {
      headers: { authorization: basic() },
    });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect((await missing.json()).requestId).toBe(missing.headers.get("x-request-id"));
    const del = await t.app.request("/admin/queues", {
      method: "DELETE",
      headers: { authorization: basic() },
    });
    expect(del.status).toBe(405);
    expect(del.headers.get("allow")).toBe("GET, HEAD");
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
