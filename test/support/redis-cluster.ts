import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** One redis-server of a test cluster. */
export interface ClusterNode {
  readonly port: number;
  readonly url: string;
  /** Path of the node's log file (removed by `destroy`). */
  readonly log: string;
  /** Whether the process is still running (false after `kill`). */
  alive(): boolean;
  /** Sends a signal (SIGKILL by default) and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface TestCluster {
  readonly nodes: readonly ClusterNode[];
  /** The seed list for `REDIS_URL` (every node, comma-separated). */
  readonly url: string;
  /** Ports of the current masters, asked from a live node. */
  masters(): Promise<number[]>;
  /** Runs `redis-cli -p <port> <args…>` and resolves with its stdout. */
  cli(port: number, ...args: string[]): Promise<string>;
  /**
   * Resolves when every live node reports `cluster_state:ok` and every master is a live process
   * (so after a kill it waits for the failover); throws after `timeoutMs`.
   */
  waitOk(timeoutMs?: number): Promise<void>;
  /** Kills every node and removes the temp dirs. */
  destroy(): Promise<void>;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** A free port whose cluster-bus twin (port + 10000) is free too. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await portFree(port)) && (await portFree(port + 10_000))) {
      taken.add(port);
      taken.add(port + 10_000);
      return port;
    }
  }
  throw new Error("no free port pair for a cluster node");
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], {
    timeout: 10_000,
  });
  return stdout;
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not reached after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts a local Redis Cluster: `masters` masters (default 3), each with `replicasPerMaster`
 * replicas (0 or 1), on free ports with temp dirs; resolves once every node says
 * `cluster_state:ok`. `nodeTimeoutMs` is `cluster-node-timeout` (how fast a dead master fails over).
 */
export async function startCluster(
  opts: { masters?: number; replicasPerMaster?: 0 | 1; nodeTimeoutMs?: number } = {},
): Promise<TestCluster> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicasPerMaster ?? 0;
  const count = masters * (1 + replicas);
  const taken = new Set<number>();
  const dirs: string[] = [];
  const procs: { port: number; child: ChildProcess }[] = [];
  const destroy = async () => {
    await Promise.all(procs.map((p) => killChild(p.child, "SIGKILL")));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) {
      const port = await clusterPort(taken);
      const dir = mkdtempSync(join(tmpdir(), "or-cluster-"));
      dirs.push(dir);
      const child = spawn(
        "redis-server",
        [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--dir",
          dir,
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          join(dir, "nodes.conf"),
          "--cluster-node-timeout",
          String(opts.nodeTimeoutMs ?? 1000),
          "--logfile",
          join(dir, "redis.log"),
          "--save",
          "",
          "--appendonly",
          "no",
          "--maxmemory-policy",
          "noeviction",
        ],
        { stdio: "ignore" },
      );
      procs.push({ port, child });
    }
    for (const p of procs)
      await until(
        `node ${p.port} answering`,
        10_000,
        async () => (await cli(p.port, "PING")).trim() === "PONG",
      );
    await run(
      "redis-cli",
      [
        "--cluster",
        "create",
        ...procs.map((p) => `127.0.0.1:${p.port}`),
        "--cluster-replicas",
        String(replicas),
        "--cluster-yes",
      ],
      { timeout: 30_000 },
    );
  } catch (e) {
    await destroy();
    throw e;
  }

  const nodes: ClusterNode[] = procs.map(({ port, child }) => ({
    port,
    url: `redis://127.0.0.1:${port}`,
    log: join(dirs[procs.findIndex((p) => p.port === port)] ?? "", "redis.log"),
    alive: () => child.exitCode === null && child.signalCode === null,
    kill: (signal: NodeJS.Signals = "SIGKILL") => killChild(child, signal),
  }));
  const live = () => nodes.filter((n) => n.alive());
  const cluster: TestCluster = {
    nodes,
    url: nodes.map((n) => n.url).join(","),
    cli,
    masters: async () => {
      const first = live()[0];
      if (!first) return [];
      const out = await cli(first.port, "CLUSTER", "NODES");
      return out
        .split("\n")
        .filter((l) => /\bmaster\b/.test(l) && !/\bfail\b/.test(l) && / connected/.test(l))
        .map((l) => Number(l.split(" ")[1]?.split("@")[0]?.split(":")[1]))
        .filter((p) => Number.isFinite(p) && p > 0);
    },
    waitOk: (timeoutMs = 20_000) =>
      until("cluster_state:ok on every node", timeoutMs, async () => {
        for (const n of live()) {
          if (!(await cli(n.port, "CLUSTER", "INFO")).includes("cluster_state:ok")) return false;
        }
        // A freshly killed master still looks fine until the others notice: require every
        // slot-owning master to be a live process.
        const alivePorts = new Set(live().map((n) => n.port));
        const ms = await cluster.masters();
        return ms.length === masters && ms.every((p) => alivePorts.has(p));
      }),
    destroy,
  };
  try {
    await cluster.waitOk();
    // A replica that never finished its first sync cannot take over: wait until every
    // replica's link to its master is up.
    if (replicas > 0)
      await until("replicas in sync", 30_000, async () => {
        const ms = new Set(await cluster.masters());
        if (ms.size !== masters) return false;
        for (const n of nodes) {
          if (ms.has(n.port)) continue;
          if (!(await cli(n.port, "INFO", "replication")).includes("master_link_status:up")) return false;
        }
        return true;
      });
  } catch (e) {
    await destroy();
    throw e;
  }
  return cluster;
}

function killChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}
