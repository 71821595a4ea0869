import type { RedisClient } from "../../src/adapters/redis/connect.js";
import type { Keys } from "../../src/adapters/redis/keys.js";
import { fastTrackAnswers } from "../fixtures/answers.js";
import { TEST_TOKENS } from "../support/app.js";

/** What one `POST /v1/route` of a load loop got. */
export interface Outcome {
  /** When it was sent / answered (ms since epoch). */
  readonly sentAt: number;
  readonly doneAt: number;
  readonly target: string;
  readonly accountId: string;
  /** HTTP status, or 0 when no answer came (connection refused/reset, timeout). */
  readonly status: number;
  readonly code?: string;
  readonly instanceId?: string;
  readonly error?: string;
}

export interface Load {
  readonly outcomes: Outcome[];
  /** Stops sending and resolves once every in-flight request has an outcome. */
  stop(): Promise<Outcome[]>;
}

/**
 * A bounded load loop: `concurrency` senders each POST `/v1/route` for a fresh account
 * (`<tag>-<n>`, user `u`) to the next of `targets()` in turn, until stopped. Each request
 * gives up after `timeoutMs`, so a hang shows as status 0 with error "timeout".
 */
export function startLoad(o: {
  targets: () => readonly string[];
  tag: string;
  concurrency?: number;
  timeoutMs?: number;
  /** Pause between a sender's requests (ms), to keep the rate modest. */
  pauseMs?: number;
}): Load {
  const outcomes: Outcome[] = [];
  let stopped = false;
  let n = 0;
  const one = async (target: string, accountId: string): Promise<Outcome> => {
    const sentAt = Date.now();
    try {
      const res = await fetch(`${target}/v1/route`, {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_TOKENS.api}`, "content-type": "application/json" },
        body: JSON.stringify({ accountId, userId: "u", survey: { answers: fastTrackAnswers } }),
        signal: AbortSignal.timeout(o.timeoutMs ?? 8000),
      });
      const body = (await res.json().catch(() => ({}))) as { code?: string; instanceId?: string };
      return {
        sentAt,
        doneAt: Date.now(),
        target,
        accountId,
        status: res.status,
        ...(body.code ? { code: body.code } : {}),
        ...(body.instanceId ? { instanceId: body.instanceId } : {}),
      };
    } catch (e) {
      const error = (e as Error).name === "TimeoutError" ? "timeout" : String((e as Error).cause ?? e);
      return { sentAt, doneAt: Date.now(), target, accountId, status: 0, error };
    }
  };
  const sender = async () => {
    while (!stopped) {
      const targets = o.targets();
      const i = n++;
      const target = targets[i % targets.length];
      if (!target) return;
      outcomes.push(await one(target, `${o.tag}-${i}`));
      if (o.pauseMs) await new Promise((r) => setTimeout(r, o.pauseMs));
    }
  };
  const running = Promise.all(Array.from({ length: o.concurrency ?? 8 }, sender));
  return {
    outcomes,
    stop: async () => {
      stopped = true;
      await running;
      return outcomes;
    },
  };
}

/** The acknowledged (2xx) outcomes whose instance is not in Redis as answered. */
export async function missingWrites(
  redis: RedisClient,
  keys: Keys,
  acked: readonly Outcome[],
): Promise<Outcome[]> {
  const missing: Outcome[] = [];
  for (const o of acked) {
    const stored = await redis.hget(keys.account.subjects(o.accountId), "u");
    const exists = o.instanceId ? await redis.exists(keys.account.instance(o.accountId, o.instanceId)) : 0;
    if (stored !== o.instanceId || exists !== 1) missing.push(o);
  }
  return missing;
}

/** Counts outcomes by `status` (and problem code) for failure messages. */
export function tally(outcomes: readonly Outcome[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const o of outcomes) {
    const k =
      o.status === 0 ? `0:${o.error?.slice(0, 40)}` : o.code ? `${o.status}:${o.code}` : String(o.status);
    t[k] = (t[k] ?? 0) + 1;
  }
  return t;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
