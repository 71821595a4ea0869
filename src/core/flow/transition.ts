import { compileCondition } from "../decision/index.js";
import type { ConditionNode, Facts } from "../decision/types.js";
import { err, ok, type Result } from "../result.js";
import { parseDuration } from "../ruleset/duration.js";
import type { FlowDefinition, FlowStep } from "../ruleset/schemas.js";
import { addDuration } from "./calendar.js";
import {
  type HistoryEntry,
  type InstanceState,
  MAX_REMINDERS,
  notifyIntent,
  type OutboxIntent,
  type StepTimer,
  stepJobId,
  stepRevOf,
  timerJobId,
} from "./instance.js";

/** What happened to an instance. Job-borne inputs name the step and rev they were scheduled for. */
export type FlowInput =
  | { readonly kind: "enter"; readonly stepId: string; readonly rev: number }
  | {
      readonly kind: "action.succeeded";
      readonly stepId: string;
      readonly rev: number;
      readonly status?: number;
    }
  | { readonly kind: "action.failed"; readonly stepId: string; readonly rev: number; readonly error: string }
  | {
      readonly kind: "timer";
      readonly stepId: string;
      readonly rev: number;
      readonly timer: StepTimer;
      readonly seq?: number;
    }
  | { readonly kind: "event"; readonly type: string; readonly stepId?: string; readonly eventId?: string }
  | { readonly kind: "retry" }
  | { readonly kind: "cancel" };

export interface TransitionContext {
  /** ms since epoch */
  readonly now: number;
  /** Facts for `branch` conditions (the instance's input + the latest handover). */
  readonly facts?: Facts;
  /** Multiplies every delay (tests, benches); due times shown to users stay unscaled. */
  readonly durationScale?: number;
  /** Reminders per task visit (default 10). */
  readonly maxReminders?: number;
}

export interface Transition {
  readonly state: InstanceState;
  readonly history: readonly HistoryEntry[];
  readonly intents: readonly OutboxIntent[];
}

/** Why an input moved nothing. `stale`: the job was for an earlier step visit (a no-op, not an error). */
export type Refusal = "stale" | "not_active" | "not_waiting" | "no_match" | "not_failed" | "is_action";

const MAX_INLINE_STEPS = 64;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface Tx {
  st: Mutable<InstanceState>;
  readonly history: HistoryEntry[];
  readonly intents: OutboxIntent[];
  readonly flow: FlowDefinition;
  readonly ctx: TransitionContext;
  readonly iso: string;
}

/** Computes the next state, history entries and outbox intents for one input; pure. */
export function advance(
  flow: FlowDefinition,
  s: InstanceState,
  input: FlowInput,
  ctx: TransitionContext,
): Result<Transition, Refusal> {
  // A job is for the step as it was armed: its rev is the step's, not the instance's latest write.
  if ("rev" in input && (input.rev !== stepRevOf(s) || input.stepId !== s.stepId)) return err("stale");
  if (input.kind === "retry") {
    if (s.status !== "failed") return err("not_failed");
  } else if (s.status !== "active") return err(input.kind === "cancel" ? "not_active" : "stale");
  const step = s.stepId === null ? undefined : flow.steps.find((x) => x.id === s.stepId);
  // A reminder or an overdue mark leaves the task armed: its other timers stay valid.
  const keepStep =
    input.kind === "timer" && (input.timer === "task.remind" || input.timer === "task.overdue");
  const rev = s.rev + 1;
  const tx: Tx = {
    st: { ...s, rev, stepRev: keepStep ? stepRevOf(s) : rev, updatedAt: ctx.now },
    history: [],
    intents: [],
    flow,
    ctx,
    iso: new Date(ctx.now).toISOString(),
  };
  const refused = apply(tx, step, input);
  if (refused) return err(refused);
  return ok({ state: tx.st, history: tx.history, intents: tx.intents });
}

function apply(tx: Tx, step: FlowStep | undefined, input: FlowInput): Refusal | undefined {
  const { st } = tx;
  switch (input.kind) {
    case "cancel":
      st.status = "cancelled";
      tx.history.push(entry(tx, "cancelled", st.stepId));
      return undefined;
    case "retry": {
      delete st.error;
      st.status = "active";
      tx.history.push(entry(tx, "retried", st.stepId, { attempt: st.attempt + 1 }));
      if (!step) return finish(tx, undefined);
      const attempt = st.attempt + 1;
      enter(tx, step.id, 0);
      st.attempt = attempt;
      return undefined;
    }
    case "enter":
      if (!step) return finish(tx, undefined);
      if (st.stepStatus !== "pending") return "stale";
      if (step.type === "action") return "is_action";
      arm(tx, step, 0);
      return undefined;
    case "action.succeeded":
      if (!step || st.stepStatus === "done" || st.stepStatus === "failed") return "stale";
      tx.history.push(
        entry(
          tx,
          "action.succeeded",
          step.id,
          input.status === undefined ? undefined : { status: input.status },
        ),
      );
      completeAndMove(tx, step, nextOf(tx.flow, step));
      return undefined;
    case "action.failed":
      if (!step || st.stepStatus === "done" || st.stepStatus === "failed") return "stale";
      st.status = "failed";
      st.stepStatus = "failed";
      st.error = input.error.slice(0, 500);
      tx.history.push(entry(tx, "step.failed", step.id, { error: st.error }));
      notify(tx, "flow.failed", step.id, { error: st.error });
      return undefined;
    case "timer":
      if (!step || st.stepStatus !== "waiting") return "stale";
      return fire(tx, step, input.timer, input.seq ?? 1);
    case "event": {
      if (!step || (st.stepStatus !== "waiting" && st.stepStatus !== "pending")) return "not_waiting";
      if (input.stepId !== undefined && input.stepId !== step.id) return "no_match";
      const waitsFor = step.type === "wait" ? step.event : step.type === "task" ? step.completeOn : undefined;
      if (waitsFor !== input.type) return "no_match";
      tx.history.push(
        entry(tx, "event.received", step.id, {
          type: input.type,
          ...(input.eventId ? { eventId: input.eventId } : {}),
        }),
      );
      completeAndMove(tx, step, nextOf(tx.flow, step));
      return undefined;
    }
  }
}

function fire(tx: Tx, step: FlowStep, timer: StepTimer, seq: number): Refusal | undefined {
  if (timer === "wait.elapsed" && step.type === "wait" && step.duration) {
    completeAndMove(tx, step, nextOf(tx.flow, step));
    return undefined;
  }
  if (timer === "wait.timeout" && step.type === "wait" && step.onTimeout) {
    tx.history.push(entry(tx, "timed.out", step.id, { timeout: step.timeout }));
    completeAndMove(tx, step, step.onTimeout);
    return undefined;
  }
  if (timer === "task.remind" && step.type === "task") {
    // A reminder keeps the step's rev (its other timers stay valid), so the rev cannot tell a
    // re-delivered reminder job from a new one: the applied seq does.
    if (seq <= (tx.st.reminded ?? 0)) return "stale";
    tx.st.reminded = seq;
    tx.history.push(entry(tx, "reminded", step.id, { assignee: step.assignee, reminder: seq }));
    if (step.remindEvery && seq < (tx.ctx.maxReminders ?? MAX_REMINDERS))
      timerAfter(tx, step, "task.remind", ms(step.remindEvery), step.businessDays === true, seq + 1);
    return undefined;
  }
  if (timer === "task.overdue" && step.type === "task") {
    if (tx.st.overdue) return "stale";
    tx.st.overdue = true;
    tx.history.push(
      entry(tx, step.escalateTo ? "escalated" : "overdue", step.id, {
        assignee: step.assignee,
        ...(step.escalateTo ? { escalateTo: step.escalateTo } : {}),
      }),
    );
    notify(tx, "task.overdue", step.id, step.escalateTo ? { escalateTo: step.escalateTo } : undefined);
    return undefined;
  }
  return "stale";
}

/** The step after `step`: its `next`, else the next one in the array (undefined = the flow ends). */
export function nextOf(flow: FlowDefinition, step: FlowStep): string | undefined {
  if (step.next) return step.next;
  const i = flow.steps.findIndex((x) => x.id === step.id);
  return flow.steps[i + 1]?.id;
}

function completeAndMove(tx: Tx, step: FlowStep, target: string | undefined): void {
  tx.st.stepStatus = "done";
  tx.history.push(entry(tx, "step.completed", step.id));
  notify(tx, "step.completed", step.id);
  if (target === undefined) finish(tx, undefined);
  else enter(tx, target, 0);
}

function enter(tx: Tx, stepId: string, depth: number): void {
  const step = tx.flow.steps.find((x) => x.id === stepId);
  if (!step) {
    fail(tx, stepId, `the flow has no step ${stepId}`);
    return;
  }
  const { st } = tx;
  st.stepId = step.id;
  st.stepStatus = "pending";
  st.stepEnteredAt = tx.ctx.now;
  delete st.stepDueAt;
  delete st.reminded;
  delete st.overdue;
  st.attempt = 0;
  st.entered = [...st.entered, step.id];
  tx.history.push(entry(tx, "step.entered", step.id, step.stage ? { stage: step.stage } : undefined));
  notify(tx, "step.entered", step.id);
  arm(tx, step, depth);
}

/** Starts what a just-entered step does: a job for actions, timers for waits and tasks; branches and ends resolve at once. */
function arm(tx: Tx, step: FlowStep, depth: number): void {
  const { st } = tx;
  const now = tx.ctx.now;
  switch (step.type) {
    case "action":
      st.stepStatus = "pending";
      tx.intents.push({
        id: stepJobId(st.id, step.id, stepRevOf(st)),
        kind: "step.enter",
        accountId: st.accountId,
        instanceId: st.id,
        stepId: step.id,
        rev: stepRevOf(st),
        runAt: 0,
        callsOut: true,
      });
      return;
    case "wait":
      st.stepStatus = "waiting";
      if (step.duration) {
        st.stepDueAt = now + ms(step.duration);
        timerAfter(tx, step, "wait.elapsed", ms(step.duration), false);
      } else if (step.timeout) {
        st.stepDueAt = now + ms(step.timeout);
        timerAfter(tx, step, "wait.timeout", ms(step.timeout), false);
      }
      return;
    case "task": {
      st.stepStatus = "waiting";
      const bd = step.businessDays === true;
      st.stepDueAt = addDuration(now, ms(step.sla), bd);
      timerAfter(tx, step, "task.overdue", ms(step.sla), bd);
      if (step.remindEvery) timerAfter(tx, step, "task.remind", ms(step.remindEvery), bd, 1);
      return;
    }
    case "branch": {
      const facts = tx.ctx.facts;
      if (depth >= MAX_INLINE_STEPS || !facts) {
        fail(tx, step.id, facts ? "too many branch steps in a row" : "no facts to evaluate the branch");
        return;
      }
      let index = -1;
      for (const [i, b] of step.branches.entries()) {
        if (compileCondition(b.conditions as ConditionNode)(facts).result) {
          index = i;
          break;
        }
      }
      const target = index >= 0 ? step.branches[index]!.next : step.otherwise;
      st.stepStatus = "done";
      tx.history.push(
        entry(tx, "branch.taken", step.id, { next: target, branch: index >= 0 ? index : "otherwise" }),
      );
      enter(tx, target, depth + 1);
      return;
    }
    case "end":
      finish(tx, step.outcome);
      return;
  }
}

function finish(tx: Tx, outcome: string | undefined): undefined {
  tx.st.status = "completed";
  tx.st.stepStatus = "done";
  delete tx.st.stepDueAt;
  tx.history.push(entry(tx, "completed", tx.st.stepId, outcome ? { outcome } : undefined));
  notify(tx, "flow.completed", tx.st.stepId ?? undefined);
  return undefined;
}

function fail(tx: Tx, stepId: string, error: string): void {
  tx.st.status = "failed";
  tx.st.stepStatus = "failed";
  tx.st.error = error;
  tx.history.push(entry(tx, "step.failed", stepId, { error }));
  notify(tx, "flow.failed", stepId, { error });
}

function timerAfter(
  tx: Tx,
  step: FlowStep,
  timer: StepTimer,
  duration: number,
  businessDays: boolean,
  seq?: number,
): void {
  const now = tx.ctx.now;
  const delay = (addDuration(now, duration, businessDays) - now) * (tx.ctx.durationScale ?? 1);
  const { st } = tx;
  const rev = stepRevOf(st);
  tx.intents.push({
    id: timerJobId(st.id, step.id, rev, timer, seq),
    kind: "step.timer",
    accountId: st.accountId,
    instanceId: st.id,
    stepId: step.id,
    rev,
    timer,
    ...(seq === undefined ? {} : { seq }),
    runAt: now + Math.max(0, Math.round(delay)),
  });
}

function notify(tx: Tx, event: string, stepId: string | undefined, detail?: Record<string, unknown>): void {
  const { st } = tx;
  tx.intents.push(
    notifyIntent({ accountId: st.accountId, instanceId: st.id, rev: st.rev }, event, stepId, detail),
  );
}

function entry(
  tx: Tx,
  type: string,
  stepId: string | null | undefined,
  detail?: Record<string, unknown>,
): HistoryEntry {
  return { at: tx.iso, type, ...(stepId ? { stepId } : {}), ...(detail ? { detail } : {}) };
}

function ms(iso: string | undefined): number {
  return (iso && parseDuration(iso)) || 0;
}
