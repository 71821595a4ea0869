import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { FIXED_SECRETS, type Spawned, spawnEntry, waitReady } from "./contract-ops-support.js";

let p: Spawned;
beforeAll(async () => {
  p = await spawnEntry({
    ...FIXED_SECRETS,
    NODE_ENV: "test",
    LOG_LEVEL: "warn",
    REDIS_URL: inject("redisUrl"),
    REDIS_KEY_PREFIX: `hp-${crypto.randomUUID().slice(0, 8)}:`,
    QUEUE_PREFIX: `{hp-${crypto.randomUUID().slice(0, 8)}}`,
    RULES_AUTOPUBLISH: "false",
  });
  await waitReady(p);
}, 40_000);
afterAll(async () => {
  await p?.kill();
});

/** Sends raw bytes and resolves with everything the server wrote before closing. */
function raw(bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(p.port, "127.0.0.1", () => s.write(bytes));
    let got = "";
    s.on("data", (d: Buffer) => {
      got += d.toString();
    });
    s.on("end", () => resolve(got));
    s.on("error", reject);
    s.setTimeout(5_000, () => {
      s.destroy();
      resolve(got);
    });
  });
}

function parse(answer: string) {
  const [head = "", body = ""] = answer.split("\r\n\r\n");
  const lines = head.split("\r\n");
  const headers = Object.fromEntries(
    lines.slice(1).map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
  );
  return {
    status: Number(lines[0]?.split(" ")[1]),
    headers,
    body: JSON.parse(body) as Record<string, unknown>,
  };
}

describe("requests Node's HTTP parser refuses", () => {
  it.each([
    ["headers over 16 KiB", `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`],
    ["a malformed request line", "GARBAGE\r\n\r\n"],
    ["a non-numeric Content-Length", "POST /v1/route HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n"],
    [
      "Content-Length with Transfer-Encoding",
      "POST /v1/route HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ],
  ])("answer %s with a problem+json 400 carrying a request id", async (_, bytes) => {
    const r = parse(await raw(bytes));
    expect(r.status).toBe(400);
    expect(r.headers["content-type"]).toBe("application/problem+json");
    expect(r.headers["x-request-id"]).toMatch(/^req_[0-9a-f]{24}$/);
    expect(r.body).toMatchObject({
      type: "/problems/bad_request",
      status: 400,
      code: "bad_request",
      requestId: r.headers["x-request-id"],
    });
    expect(String(r.body.detail).length).toBeGreaterThan(0);
    // The process keeps serving.
    expect((await fetch(`${p.url}/healthz`)).status).toBe(200);
  });
});

describe("a client that disconnects mid-body", () => {
  it("is not logged as a service error, and the process keeps serving", async () => {
    await new Promise<void>((resolve) => {
      const s = connect(p.port, "127.0.0.1", () => {
        s.write(
          `POST /v1/route HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${FIXED_SECRETS.ROUTER_API_TOKEN}\r\n` +
            'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"accountId":',
        );
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 200);
      });
    });
    await new Promise((r) => setTimeout(r, 300));
    expect((await fetch(`${p.url}/healthz`)).status).toBe(200);
    expect(p.stdout()).not.toMatch(/unhandled error/);
  });
});

describe("a client that stalls in its headers", () => {
  it("gets a problem+json 400 and loses its socket after 10 s, not Node's 60 s", async () => {
    const started = Date.now();
    const answer = await new Promise<string>((resolve, reject) => {
      const s = connect(p.port, "127.0.0.1", () => s.write("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "));
      let got = "";
      s.on("data", (d: Buffer) => {
        got += d.toString();
      });
      s.on("close", () => resolve(got));
      s.on("error", reject);
      s.setTimeout(15_000, () => s.destroy());
    });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(9_000);
    expect(elapsed).toBeLessThan(14_000);
    const r = parse(answer);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: "bad_request", detail: "The request did not arrive in time" });
  }, 20_000);
});
