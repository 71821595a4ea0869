import type { Queue } from "bullmq";
import type { FlowJobData } from "./flow-queue.js";

const STATES = ["wait", "delayed", "prioritized", "waiting-children", "completed", "failed"] as const;
const PAGE = 500;

/** Removes every non-active job of an account (found by data.accountId); resolves with the count removed. */
export async function removeAccountJobs(queue: Queue<FlowJobData>, accountId: string): Promise<number> {
  let removed = 0;
  for (const state of STATES) {
    for (let start = 0; ; ) {
      const jobs = await queue.getJobs([state], start, start + PAGE - 1, true);
      if (jobs.length === 0) break;
      let here = 0;
      for (const job of jobs) {
        if (!job || (job.data as FlowJobData | undefined)?.accountId !== accountId || !job.id) continue;
        // An active (locked) job cannot be removed; it is a no-op once the instance is gone.
        if ((await queue.remove(job.id)) === 1) here++;
      }
      removed += here;
      start += PAGE - here;
    }
  }
  return removed;
}
