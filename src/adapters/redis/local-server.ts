import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { join, resolve } from "node:path";

/** Answers whether something speaking RESP answers PING on host:port. */
export function pingRedis(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((done) => {
    const s = createConnection({ host, port });
    const finish = (ok: boolean) => {
      s.destroy();
      done(ok);
    };
    s.setTimeout(timeoutMs, () => finish(false));
    s.once("error", () => finish(false));
    s.once("connect", () => s.write("PING\r\n"));
    s.once("data", (d) => finish(d.toString().startsWith("+PONG") || d.toString().startsWith("-NOAUTH")));
  });
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      srv.close(() => done(typeof a === "object" && a ? a.port : 0));
    });
  });
}

export interface LocalRedis {
  readonly url: string;
  readonly started: boolean;
  stop(): Promise<void>;
}

/**
 * With no REDIS_URL: use 127.0.0.1:6379 if it answers; else a private redis-server that an
 * earlier local process started (port in `.data/redis/port`); else start one (AOF on, data under
 * `.data/redis`) that lives as long as this process. Throws with install advice when none exists.
 */
export async function resolveLocalRedis(dataDir: string): Promise<LocalRedis> {
  if (await pingRedis("127.0.0.1", 6379))
    return { url: "redis://127.0.0.1:6379", started: false, stop: async () => {} };
  const dir = resolve(dataDir, "redis");
  mkdirSync(dir, { recursive: true });
  const portFile = join(dir, "port");
  try {
    const port = Number(readFileSync(portFile, "utf8").trim());
    if (port > 0 && (await pingRedis("127.0.0.1", port))) {
      return { url: `redis://127.0.0.1:${port}`, started: false, stop: async () => {} };
    }
  } catch {
    // no earlier private server
  }
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error(
      "No Redis: REDIS_URL is unset, nothing answers on 127.0.0.1:6379 and redis-server is not on PATH. Install it (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) or set REDIS_URL.",
    );
  }
  const port = await freePort();
  const child: ChildProcess = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--appendonly",
      "yes",
      "--appendfsync",
      "everysec",
      "--save",
      "",
      "--maxmemory-policy",
      "noeviction",
    ],
    { stdio: "ignore" },
  );
  const deadline = Date.now() + 10_000;
  while (!(await pingRedis("127.0.0.1", port))) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error("the private redis-server did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  writeFileSync(portFile, String(port));
  return {
    url: `redis://127.0.0.1:${port}`,
    started: true,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once("exit", () => done());
        child.kill("SIGTERM");
      }),
  };
}
