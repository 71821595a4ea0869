import { transitionInstance } from "../../adapters/redis/flow-store.js";
import type { Processor } from "../context.js";

/** A step timer fired: wait elapsed / timed out, task reminder or overdue. Stale timers are no-ops. */
export const processStepTimer: Processor<"step.timer"> = async (job, ctx) => {
  const d = job.data;
  const r = await transitionInstance(ctx.store, d.accountId, d.instanceId, {
    kind: "timer",
    stepId: d.stepId,
    rev: d.rev,
    timer: d.timer,
    ...(d.seq !== undefined ? { seq: d.seq } : {}),
  });
  return r.ok ? d.timer : `skipped:${r.error}`;
};
