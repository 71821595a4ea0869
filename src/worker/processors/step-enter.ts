import { OutboundError, postSigned } from "../../adapters/outbound/sender.js";
import { loadInstance, transitionInstance } from "../../adapters/redis/flow-store.js";
import { stepRevOf } from "../../core/flow/instance.js";
import type { FlowStep } from "../../core/ruleset/schemas.js";
import type { Processor, WorkerContext } from "../context.js";

type ActionStep = Extract<FlowStep, { type: "action" }>;

/** The outcome of a job whose instance no longer exists (erased): its record is removed too. */
export const GONE = "skipped:unknown_instance";

/** Default retries of an action without its own `retries`. */
const DEFAULT_RETRIES = 3;

/**
 * A step was entered. Actions call out (signed, idempotency key = job id, the same on every try);
 * other step kinds arm their timers. A job for an earlier rev or step is stale and completes as a no-op.
 */
export const processStepEnter: Processor<"step.enter"> = async (job, ctx) => {
  const d = job.data;
  const s = await loadInstance(ctx.store, d.accountId, d.instanceId);
  if (!s) return GONE;
  if (s.status !== "active" || stepRevOf(s) !== d.rev || s.stepId !== d.stepId) return "stale";
  const flow = await ctx.store.rules.flow(s.flowId, s.flowVersion);
  const step = flow?.steps.find((x) => x.id === d.stepId);
  if (!step) return "stale";
  if (step.type !== "action") {
    const r = await transitionInstance(
      ctx.store,
      d.accountId,
      d.instanceId,
      { kind: "enter", stepId: d.stepId, rev: d.rev },
      s,
    );
    return r.ok ? "entered" : `skipped:${r.error}`;
  }
  const started = performance.now();
  const maxAttempts = Math.min((step.retries ?? DEFAULT_RETRIES) + 1, job.opts.attempts ?? 1);
  try {
    const status = await runAction(step, ctx, job.id ?? d.id, {
      type: "step.action",
      accountId: d.accountId,
      instanceId: d.instanceId,
      flow: { id: s.flowId, version: s.flowVersion },
      stepId: step.id,
      attempt: job.attemptsMade + 1,
      payload: step.payload ?? null,
    });
    ctx.telemetry.stepDuration(s.flowId, "action", (performance.now() - started) / 1000);
    const r = await transitionInstance(ctx.store, d.accountId, d.instanceId, {
      kind: "action.succeeded",
      stepId: d.stepId,
      rev: d.rev,
      status,
    });
    return r.ok ? "done" : `skipped:${r.error}`;
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    const last = (e instanceof OutboundError && !e.retryable) || job.attemptsMade + 1 >= maxAttempts;
    if (!last) throw e;
    await transitionInstance(ctx.store, d.accountId, d.instanceId, {
      kind: "action.failed",
      stepId: d.stepId,
      rev: d.rev,
      error: `${step.id}: ${error} (after ${job.attemptsMade + 1} attempt(s))`,
    });
    return "failed";
  }
};

/** Calls the action's URL, or the subscribers it names; resolves with the last HTTP status. */
async function runAction(
  step: ActionStep,
  ctx: WorkerContext,
  id: string,
  body: Record<string, unknown>,
): Promise<number> {
  const resolved = withSecrets({ url: step.url ?? null, headers: step.headers ?? {}, body }, ctx.secret) as {
    url: string | null;
    headers: Record<string, string>;
    body: unknown;
  };
  let targets: readonly string[];
  if (resolved.url) targets = [resolved.url];
  else if (step.subscriber === true) targets = ctx.outbound.subscribers;
  else if (typeof step.subscriber === "string" && ctx.outbound.subscribers.includes(step.subscriber))
    targets = [step.subscriber];
  else
    throw new OutboundError(
      `subscriber ${String(step.subscriber)} is not listed in WEBHOOK_SUBSCRIBERS`,
      false,
    );
  let status = 204;
  for (const url of targets)
    status = (await postSigned(ctx.outbound, url, resolved.body, id, resolved.headers)).status;
  return status;
}

const SECRET_REF = /\{\{secret:([A-Za-z0-9_]+)\}\}/g;

/** Replaces `{{secret:NAME}}` in every string with env `FLOW_SECRET_NAME`; a missing one fails the step. */
export function withSecrets(value: unknown, secret: (name: string) => string | undefined): unknown {
  if (typeof value === "string")
    return value.replace(SECRET_REF, (_, name: string) => {
      const v = secret(name);
      if (v === undefined) throw new OutboundError(`FLOW_SECRET_${name} is not set`, false);
      return v;
    });
  if (Array.isArray(value)) return value.map((v) => withSecrets(v, secret));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withSecrets(v, secret)]));
  return value;
}
