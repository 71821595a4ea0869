import type { Queue } from "bullmq";
import type { FlowJobData } from "./flow-queue.js";

const STATES = ["wait", "delayed", "prioritized", "waiting-children", "completed", "failed"] as const;
const PAGE = 500;

/** What an erase removed, to tell its jobs from those of the same account started afresh since. */
export interface ErasedJobs {
  readonly accountId: string;
  /** The erased instances: their jobs go, whenever they were queued. */
  readonly instanceIds: ReadonlySet<string>;
  /** When the erase ran: account-level jobs (re-decisions) queued before it go. */
  readonly at: number;
}

/**
 * Removes every non-active job of an erased account; resolves with the count removed. A route
 * or handover after the erase starts the account afresh, and its jobs stay: removing every job
 * naming the account stripped a re-created instance of its timers, so it never timed out.
 */
export async function removeAccountJobs(queue: Queue<FlowJobData>, erased: ErasedJobs): Promise<number> {
  let removed = 0;
  for (const state of STATES) {
    for (let start = 0; ; ) {
      const jobs = await queue.getJobs([state], start, start + PAGE - 1, true);
      if (jobs.length === 0) break;
      let here = 0;
      for (const job of jobs) {
        if (!job?.id || !ofErased(job.data as FlowJobData | undefined, job.timestamp, erased)) continue;
        // An active (locked) job cannot be removed; it is a no-op once the instance is gone.
        if ((await queue.remove(job.id)) === 1) here++;
      }
      removed += here;
      start += PAGE - here;
    }
  }
  return removed;
}

function ofErased(data: FlowJobData | undefined, queuedAt: number, erased: ErasedJobs): boolean {
  if (data?.accountId !== erased.accountId) return false;
  return "instanceId" in data ? erased.instanceIds.has(data.instanceId) : queuedAt <= erased.at;
}
