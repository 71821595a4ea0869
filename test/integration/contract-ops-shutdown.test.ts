import { createServer, type Server } from "node:http";
import { afterAll, describe, expect, inject, it } from "vitest";
import { FIXED_SECRETS, ROOT, type Spawned, spawnEntry, waitReady } from "./contract-ops-support.js";

const procs: Spawned[] = [];
let hook: Server | undefined;
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
});

const ANSWERS = {
  teamSize: 10,
  priorExperience: "some",
  goLiveTimeline: "within_month",
  supportStyle: "self_serve",
};

describe("SIGTERM on a worker", () => {
  it("lets the job in flight finish and exits 0 within 10 s (--role=worker)", async () => {
    // A subscriber that answers 4.5 s after each call (under the 5 s call timeout): the
    // welcome-email action is then in flight, and must end before the worker leaves.
    let calls = 0;
    let answered = 0;
    let firstCall: () => void = () => {};
    const called = new Promise<void>((r) => {
      firstCall = r;
    });
    hook = createServer((req, res) => {
      calls++;
      req.resume();
      firstCall();
      setTimeout(() => {
        res.writeHead(200).end("ok");
        answered++;
      }, 4_500);
    });
    const hookPort = await new Promise<number>((r) =>
      hook?.listen(0, "127.0.0.1", () => {
        const a = hook?.address();
        r(typeof a === "object" && a ? a.port : 0);
      }),
    );
    const env = {
      ...FIXED_SECRETS,
      NODE_ENV: "test",
      REDIS_URL: inject("redisUrl"),
      REDIS_KEY_PREFIX: `sd-${crypto.randomUUID().slice(0, 8)}:`,
      QUEUE_PREFIX: `{sd-${crypto.randomUUID().slice(0, 8)}}`,
      WEBHOOK_SUBSCRIBERS: `http://127.0.0.1:${hookPort}/hook`,
      OUTBOUND_ALLOWED_HOSTS: "127.0.0.1",
      LOG_LEVEL: "info",
    };
    const api = await spawnEntry(env, { args: ["--role=api"] });
    procs.push(api);
    await waitReady(api);
    const worker = await spawnEntry(env, { args: ["--role=worker"] });
    procs.push(worker);
    await waitReady(worker, true);

    const routed = await fetch(`${api.url}/v1/route`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${FIXED_SECRETS.ROUTER_API_TOKEN}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ accountId: "sigterm-worker", survey: { answers: ANSWERS } }),
    });
    const decision = (await routed.json()) as { step: { id: string }; instanceId: string };
    expect(decision.step.id).toBe("welcome-email");

    await called;
    const sentAt = Date.now();
    worker.child.kill("SIGTERM");
    const exit = await worker.exited;
    expect(exit.code).toBe(0);
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    // The call in flight was answered before the worker left, and the step moved on.
    expect(answered).toBeGreaterThanOrEqual(1);
    const account = await fetch(`${api.url}/v1/accounts/sigterm-worker`, {
      headers: { authorization: `Bearer ${FIXED_SECRETS.ROUTER_API_TOKEN}` },
    });
    const body = (await account.json()) as {
      instances: { history: { type: string; stepId?: string }[]; currentStep: { id: string } | null }[];
    };
    expect(body.instances[0]?.currentStep?.id).not.toBe("welcome-email");
    expect(calls).toBe(answered);
  }, 60_000);
});

/** Starts `npm start`'s process (API and worker in one) on its own key and queue prefixes, ready. */
async function startAllInOne(tag: string, logLevel = "warn"): Promise<Spawned> {
  const p = await spawnEntry({
    ...FIXED_SECRETS,
    NODE_ENV: "test",
    REDIS_URL: inject("redisUrl"),
    REDIS_KEY_PREFIX: `${tag}-${crypto.randomUUID().slice(0, 8)}:`,
    QUEUE_PREFIX: `{${tag}-${crypto.randomUUID().slice(0, 8)}}`,
    LOG_LEVEL: logLevel,
  });
  procs.push(p);
  await waitReady(p);
  return p;
}

describe("SIGINT", () => {
  it("stops npm start (API and worker in one process) with exit 0 within 10 s", async () => {
    const p = await startAllInOne("si", "info");
    const sentAt = Date.now();
    p.child.kill("SIGINT");
    const exit = await p.exited;
    expect(exit.code).toBe(0);
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    const refused = await fetch(`${p.url}/healthz`).then(
      () => false,
      () => true,
    );
    expect(refused).toBe(true);
  }, 40_000);
});

describe("SIGTERM under keep-alive load", () => {
  it("closes each connection after its answer and exits 0 well within 10 s while clients keep sending", async () => {
    const { Agent, request } = await import("node:http");
    const p = await startAllInOne("ka");
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    let signalledAt = 0;
    const after = { answered: 0 };
    const failures: string[] = [];
    const get = () =>
      new Promise<boolean>((done) => {
        const req = request({ host: "127.0.0.1", port: p.port, path: "/healthz", agent }, (res) => {
          res.resume();
          res.once("end", () => {
            if (signalledAt > 0) after.answered++;
            done(true);
          });
        });
        req.once("error", (e: NodeJS.ErrnoException) => {
          failures.push(e.code ?? e.message);
          done(false);
        });
        req.end();
      });
    // Eight keep-alive clients send back to back until the process stops answering.
    const clients = Array.from({ length: 8 }, async () => {
      while (await get());
    });
    await new Promise((r) => setTimeout(r, 500));
    signalledAt = Date.now();
    p.child.kill("SIGTERM");
    const exit = await p.exited;
    await Promise.all(clients);
    agent.destroy();
    expect(exit.code).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(6_000);
    // The requests in flight are answered, then each connection closes: no stream of new requests
    // (without Connection: close these clients got thousands more answers until the exit). The
    // signal lands a few requests after signalledAt on a busy machine, hence a margin over 8.
    expect(after.answered).toBeLessThanOrEqual(200);
    // No request was cut off on a connection the server closed under it: each client's next
    // request finds the port closed (refused), never a reset after it was sent.
    expect(failures.filter((code) => code !== "ECONNREFUSED")).toEqual([]);
  }, 40_000);
});

describe("npm start", () => {
  it("passes SIGTERM on to the service (npm's shell would otherwise leave node running)", async () => {
    const { spawn } = await import("node:child_process");
    const { freePort } = await import("../support/redis-server.js");
    const port = await freePort();
    const npm = spawn("npm", ["start", "--silent"], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...FIXED_SECRETS,
        NODE_ENV: "test",
        HOST: "127.0.0.1",
        PORT: String(port),
        REDIS_URL: inject("redisUrl"),
        REDIS_KEY_PREFIX: `npm-${crypto.randomUUID().slice(0, 8)}:`,
        QUEUE_PREFIX: `{npm-${crypto.randomUUID().slice(0, 8)}}`,
        LOG_LEVEL: "warn",
      },
      stdio: "ignore",
      detached: true, // its own process group, so the cleanup below reaches whatever npm started
    });
    const answers = () =>
      fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.status === 200,
        () => false,
      );
    // A new connection, not one of fetch's pooled keep-alive ones (which the drain may still
    // answer on, with Connection: close, for the second it leaves idle connections).
    const { connect } = await import("node:net");
    const listening = () =>
      new Promise<boolean>((done) => {
        const s = connect(port, "127.0.0.1");
        s.once("connect", () => {
          s.destroy();
          done(true);
        });
        s.once("error", () => done(false));
      });
    try {
      const deadline = Date.now() + 60_000;
      while (!(await answers())) {
        if (Date.now() > deadline || npm.exitCode !== null) throw new Error("npm start did not come up");
        await new Promise((r) => setTimeout(r, 200));
      }
      const signalledAt = Date.now();
      npm.kill("SIGTERM");
      while (await listening()) {
        if (Date.now() - signalledAt > 10_000) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(Date.now() - signalledAt).toBeLessThan(10_000);
      expect(await listening()).toBe(false);
    } finally {
      try {
        process.kill(-(npm.pid ?? 0), "SIGKILL");
      } catch {
        // already gone
      }
    }
  }, 90_000);
});
