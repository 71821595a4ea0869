import type { RedisClient } from "./connect.js";

/** How often a worker process adds its job outcome counts to the shared tally. */
const FLUSH_MS = 1_000;

export interface JobOutcomeTally {
  /** Counts one job outcome (in memory; flushed every second). */
  count(kind: string, outcome: string): void;
  /** Writes what is counted and stops the timer. */
  close(): Promise<void>;
}

/**
 * Job outcomes of every worker process, summed in one Redis hash (`kind|outcome` → n), so that
 * `/metrics` on any API process shows them: a worker process serves no HTTP. One HINCRBY batch
 * per second per process, not one command per job.
 */
export function tallyJobOutcomes(redis: RedisClient, key: string): JobOutcomeTally {
  let pending = new Map<string, number>();
  const flush = async () => {
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    const p = redis.pipeline();
    for (const [field, n] of batch) p.hincrby(key, field, n);
    await p.exec().catch(() => {
      // Redis is down: keep the counts for the next flush rather than lose them.
      for (const [field, n] of batch) pending.set(field, (pending.get(field) ?? 0) + n);
    });
  };
  const timer = setInterval(() => void flush(), FLUSH_MS);
  timer.unref();
  return {
    count(kind, outcome) {
      const field = `${kind}|${outcome}`;
      pending.set(field, (pending.get(field) ?? 0) + 1);
    },
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}

/** The summed job outcomes of every worker process: `{ kind, outcome, n }` rows. */
export async function readJobOutcomes(
  redis: RedisClient,
  key: string,
): Promise<{ kind: string; outcome: string; n: number }[]> {
  const all = await redis.hgetall(key);
  return Object.entries(all).map(([field, n]) => {
    const bar = field.lastIndexOf("|");
    return { kind: field.slice(0, bar), outcome: field.slice(bar + 1), n: Number(n) };
  });
}
