import { postSigned } from "../../adapters/outbound/sender.js";
import type { Processor } from "../context.js";

const EVENTS = new Set(["step.entered", "step.completed", "task.overdue", "flow.completed", "flow.failed"]);

/** Sends one flow notification to every subscriber; a failing subscriber fails the job (retried, same webhook-id). */
export const processNotify: Processor<"notify"> = async (job, ctx) => {
  const d = job.data;
  if (!EVENTS.has(d.event) || ctx.outbound.subscribers.length === 0) return "skipped";
  // What the notice adds beyond the step (flow.failed's error, task.overdue's escalateTo).
  const { stepId, ...extra } = d.detail ?? {};
  const body = {
    type: d.event,
    accountId: d.accountId,
    instanceId: d.instanceId,
    ...(typeof stepId === "string" ? { stepId } : {}),
    at: new Date(job.timestamp).toISOString(),
    ...extra,
  };
  const done: number[] = (job.progress as { done?: number[] } | undefined)?.done ?? [];
  const errors: string[] = [];
  for (const [i, url] of ctx.outbound.subscribers.entries()) {
    if (done.includes(i)) continue;
    try {
      await postSigned(ctx.outbound, url, body, job.id ?? d.id);
      done.push(i);
    } catch (e) {
      errors.push(`subscriber ${i}: ${(e as Error).message}`);
    }
  }
  // Remember who already has it, so a retry reaches only the ones that failed.
  await job.updateProgress({ done });
  if (errors.length > 0) throw new Error(errors.join("; "));
  return "sent";
};
