import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, expectProblem, FAST_TRACK_ANSWERS } from "./contract-cases.js";
import { ADMIN_TOKEN, API_TOKEN, publishShippedRules, type Stack, startStack } from "./stack.js";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

describe("the edge entry", () => {
  it.each([
    ["GET", "/metrics"],
    ["GET", "/docs"],
    ["GET", "/console"],
    ["GET", "/admin/queues"],
    ["GET", "/v1/admin/rules"],
    ["PUT", "/v1/admin/rules"],
    ["GET", "/v1/admin/decisions/dec_x"],
    ["DELETE", "/v1/accounts/acme"],
  ])("answers %s %s, which only Node serves, with 404 not_found", async (method, path) => {
    const res = await call(stack.entries.edge, method, path, { token: ADMIN_TOKEN });
    expectProblem(res, 404, "not_found");
  });

  it("answers the admin token on a shared route with 403, as Node does", async () => {
    for (const entry of [stack.entries.edge, stack.entries.node].filter((e) => e !== undefined)) {
      const res = await call(entry, "POST", "/v1/route", { token: ADMIN_TOKEN, body: {} });
      expectProblem(res, 403, "forbidden");
    }
  });

  it("keeps serving after refusing an oversized chunked body (the body is drained, not cancelled)", async () => {
    const chunk = new TextEncoder().encode(`{"pad":"${"x".repeat(8 * 1024)}`);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 9; i++) c.enqueue(chunk); // ~72 KiB, no Content-Length
        c.close();
      },
    });
    const res = await fetch(`${stack.entries.edge.url}/v1/route`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    await res.arrayBuffer();
    const next = await fetch(`${stack.entries.edge.url}/healthz`, { signal: AbortSignal.timeout(5_000) });
    expect(next.status).toBe(200);
  });

  it.each([
    ["70 KB declared with Content-Length", 70_000, true],
    ["5 MiB declared with Content-Length", 5 * 1024 * 1024, true],
    ["5 MiB chunked", 5 * 1024 * 1024, false],
  ])("keeps serving other clients after refusing a body of %s", async (_, size, declared) => {
    const { request } = await import("node:http");
    const url = new URL(stack.entries.edge.url);
    /** One request on a connection of its own (as separate clients make them). */
    const send = (method: string, path: string, body?: Buffer) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: url.hostname,
            port: Number(url.port),
            method,
            path,
            agent: false,
            timeout: 5_000,
            headers: {
              authorization: `Bearer ${API_TOKEN}`,
              "content-type": "application/json",
              ...(declared && body ? { "content-length": String(body.length) } : {}),
            },
          },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          },
        );
        req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer in 5 s`)));
        req.on("error", reject);
        if (!body) req.end();
        else if (declared) req.end(body);
        else {
          for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.subarray(i, i + 64 * 1024));
          req.end();
        }
      });
    expect(await send("POST", "/v1/route", Buffer.alloc(size, "x"))).toBe(413);
    // An answer that overtook the body, or a cancelled body, broke workerd's next request, even
    // another client's: no answer at all, or a bare 503 "Your worker restarted mid-request".
    for (let i = 0; i < 3; i++) expect(await send("GET", "/healthz")).toBe(200);
  });

  it("logs a client that hangs up mid-body as gone, not as an unhandled error", async () => {
    const { connect } = await import("node:net");
    const url = new URL(stack.entries.edge.url);
    await new Promise<void>((resolve) => {
      const s = connect(Number(url.port), url.hostname, () => {
        s.write(
          `POST /v1/route HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${API_TOKEN}\r\n` +
            'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"accountId":',
        );
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 300);
      });
    });
    const ok = await call(stack.entries.edge, "GET", "/healthz", { token: null });
    expect(ok.status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect(stack.edge.output()).not.toMatch(/unhandled error/);
  });

  it("keeps a caller's x-request-id sent with whitespace around it, as Node does", async () => {
    const { connect } = await import("node:net");
    const url = new URL(stack.entries.edge.url);
    const head = await new Promise<string>((resolve, reject) => {
      const s = connect(Number(url.port), url.hostname, () =>
        s.write(
          `GET /v1/nowhere HTTP/1.1\r\nHost: ${url.host}\r\nX-Request-Id:   trace-42  \r\nConnection: close\r\n\r\n`,
        ),
      );
      let got = "";
      s.on("data", (d: Buffer) => {
        got += d.toString();
        if (got.includes('"requestId"')) s.destroy();
      });
      s.on("close", () => resolve(got));
      s.on("error", reject);
    });
    expect(head).toMatch(/^HTTP\/1\.1 404/);
    expect(head).toMatch(/\r\nx-request-id: trace-42\r\n/i);
    expect(head).toContain('"requestId":"trace-42"');
  });

  it("answers 413 at once to a body declared over 64 KiB, before the client sends it", async () => {
    // A client that waits for `100 Continue` (or sends slowly) must get its 413 now, not after
    // the whole declared body: the edge used to drain the body before answering.
    const { connect } = await import("node:net");
    const url = new URL(stack.entries.edge.url);
    const started = Date.now();
    const head = await new Promise<string>((resolve, reject) => {
      const s = connect(Number(url.port), url.hostname, () => {
        s.write(
          `POST /v1/route HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${API_TOKEN}\r\n` +
            "Content-Type: application/json\r\nContent-Length: 70000\r\nExpect: 100-continue\r\n\r\n",
        );
      });
      let got = "";
      s.on("data", (d) => {
        got += d.toString("latin1");
        if (/^HTTP\/1\.1 [2-5]\d\d/m.test(got.replace(/^HTTP\/1\.1 100[^\n]*\r\n\r\n/, ""))) {
          s.destroy();
          resolve(got);
        }
      });
      s.on("error", reject);
      setTimeout(() => {
        s.destroy();
        resolve(got);
      }, 4_000);
    });
    expect(head).toMatch(/HTTP\/1\.1 413/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("records an outcome's analytics event before its per-request connection closes", async () => {
    const accountId = `edge-outcome-${Date.now().toString(36)}`;
    const routed = await call(stack.entries.edge, "POST", "/v1/route", {
      body: {
        accountId,
        survey: { answers: FAST_TRACK_ANSWERS },
      },
    });
    expect(routed.status).toBe(200);
    const res = await call(stack.entries.edge, "POST", `/v1/accounts/${accountId}/outcomes`, {
      body: { type: "nps", score: 9, outcomeId: `o-${accountId}` },
    });
    expect(res.status).toBe(202);
    const events = await stack.client.xrange(stack.keys.global.analytics, "-", "+");
    const outcome = events.filter(([, f]) => f[1] === "outcome" && f.includes(accountId));
    expect(outcome).toHaveLength(1);
  });

  it("serves the Node entry's /openapi.json, Node-only operations marked as such", async () => {
    const res = await call(stack.entries.edge, "GET", "/openapi.json", { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    // test/http/foundation-openapi.test.ts holds this copy equal to what Node serves.
    const { readFileSync } = await import("node:fs");
    const copy = JSON.parse(
      readFileSync(new URL("../../src/adapters/edge/openapi.json", import.meta.url), "utf8"),
    );
    expect(res.body).toEqual(copy);
    const doc = res.body as { paths: Record<string, Record<string, { description?: string }>> };
    expect(doc.paths["/v1/admin/rules"]?.get?.description).toMatch(/Node entry only/);
  });

  it("leaves a ready-list wake-up for the Node relay when a route queues a first step", async () => {
    await stack.client.del(stack.keys.global.ready);
    const res = await call(stack.entries.edge, "POST", "/v1/route", {
      body: {
        accountId: "edge-ready",
        survey: { answers: FAST_TRACK_ANSWERS },
      },
    });
    expect(res.status).toBe(200);
    await expect.poll(() => stack.client.lrange(stack.keys.global.ready, 0, -1)).toContain("edge-ready");
    expect(await stack.client.llen(stack.keys.account.outbox("edge-ready"))).toBeGreaterThan(0);
  });

  it("answers 503 unavailable while Redis is down and ready again once it is back", async () => {
    await stack.redis.stop();
    try {
      const down = await call(stack.entries.edge, "POST", "/v1/route", {
        body: { accountId: "x", survey: { answers: {} } },
      });
      expectProblem(down, 503, "unavailable");
      expect(down.headers.get("retry-after")).toBe("1");
      // A request that fails its own checks gets that answer, as on Node: it never needed Redis.
      const malformed = await call(stack.entries.edge, "POST", "/v1/route", { raw: '{"accountId": "a",' });
      expectProblem(malformed, 400, "bad_request");
      const badId = await call(stack.entries.edge, "GET", `/v1/accounts/${"a".repeat(129)}`);
      expectProblem(badId, 422, "validation_failed");
      const ready = await call(stack.entries.edge, "GET", "/readyz", { token: null });
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ status: "unavailable", checks: { redis: "failing" } });
      expect((await call(stack.entries.edge, "GET", "/healthz", { token: null })).status).toBe(200);
    } finally {
      await stack.redis.start();
    }
    // The test server keeps no data across a restart: publish again, as a Node start would.
    await expect.poll(() => stack.client.ping().catch(() => "down")).toBe("PONG");
    await publishShippedRules(stack.client, stack.keys);
    await expect
      .poll(async () => (await call(stack.entries.edge, "GET", "/readyz", { token: null })).status)
      .toBe(200);
  });
});
