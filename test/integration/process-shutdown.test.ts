import { type ChildProcess, spawn } from "node:child_process";
import { request } from "node:http";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../support/redis-server.js";

const ROOT = resolve(import.meta.dirname, "../..");
const TOKEN = "proc-api-token-0123456789";
const BODY = JSON.stringify({
  accountId: "acme-sigterm",
  survey: {
    answers: { teamSize: 5, priorExperience: "none", goLiveTimeline: "no_date", supportStyle: "mixed" },
  },
});

let child: ChildProcess;
let port: number;
let stderr = "";
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

beforeAll(async () => {
  port = await freePort();
  child = spawn(join(ROOT, "node_modules/.bin/tsx"), ["src/node.ts"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      PORT: String(port),
      HOST: "127.0.0.1",
      REDIS_URL: inject("redisUrl"),
      REDIS_KEY_PREFIX: `p-${crypto.randomUUID().slice(0, 8)}:`,
      ROUTER_API_TOKEN: TOKEN,
      ROUTER_ADMIN_TOKEN: "proc-admin-token-0123456789",
      HANDOVER_WEBHOOK_SECRET: `whsec_${Buffer.from("x".repeat(32)).toString("base64")}`,
      OUTBOUND_WEBHOOK_SECRET: `whsec_${Buffer.from("y".repeat(32)).toString("base64")}`,
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  exited = new Promise((done) => child.once("exit", (code, signal) => done({ code, signal })));
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

type Outcome = { status: number } | { error: string };

/** One POST /v1/route on its own connection; `hold` delays the second half of the body. */
function post(hold?: Promise<void>): { sent: Promise<void>; outcome: Promise<Outcome> } {
  let markSent: () => void = () => {};
  const sent = new Promise<void>((r) => {
    markSent = r;
  });
  const outcome = new Promise<Outcome>((done) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/v1/route",
        method: "POST",
        agent: false,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(BODY),
        },
      },
      (res) => {
        res.resume();
        res.once("end", () => done({ status: res.statusCode ?? 0 }));
        res.once("error", (e) => done({ error: e.message }));
      },
    );
    req.once("error", (e: NodeJS.ErrnoException) => done({ error: e.code ?? e.message }));
    if (hold) {
      const half = BODY.length >> 1;
      req.write(BODY.slice(0, half), () => markSent());
      void hold.then(() => req.end(BODY.slice(half)));
    } else {
      req.end(BODY, () => markSent());
    }
  });
  return { sent, outcome };
}

describe("SIGTERM", () => {
  it("finishes in-flight requests with 200, refuses new ones and exits 0 within 10 s", async () => {
    let release: () => void = () => {};
    const hold = new Promise<void>((r) => {
      release = r;
    });
    const slow = post(hold);
    await slow.sent;
    // Let the server take the slow request's headers before anything else happens.
    await new Promise((r) => setTimeout(r, 300));

    const burst = Array.from({ length: 40 }, () => post());
    const first = await Promise.race(burst.map((b) => b.outcome));
    expect(first).toEqual({ status: 200 });

    const signalled = Date.now();
    child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    const late = await post().outcome;
    release();

    const slowOutcome = await slow.outcome;
    const outcomes = await Promise.all(burst.map((b) => b.outcome));
    const { code, signal } = await exited;
    const tookMs = Date.now() - signalled;

    expect(slowOutcome).toEqual({ status: 200 });
    const statuses = outcomes.filter((o): o is { status: number } => "status" in o).map((o) => o.status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(statuses.length).toBeGreaterThan(0);
    for (const o of outcomes)
      if ("error" in o) expect(o.error).toMatch(/ECONNREFUSED|ECONNRESET|socket hang up/);
    expect(late).toEqual({ error: "ECONNREFUSED" });
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(tookMs).toBeLessThan(10_000);
  });
});
