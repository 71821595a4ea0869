import type { AnalyticsEvent } from "../analytics/event.js";
import type { Reason } from "../decision/types.js";

export type InstanceStatus = "active" | "completed" | "cancelled" | "failed";
export type StepStatus = "pending" | "running" | "waiting" | "done" | "failed";

/** The survey input a decision was made from, kept so a late handover can re-decide. */
export interface RouteInput {
  readonly answers: Readonly<Record<string, unknown>>;
  readonly role?: string;
  readonly context?: Readonly<Record<string, unknown>>;
}

/**
 * One customer's (account + optional user) flow instance as stored in Redis
 * (hash `{accountId}:inst:<instanceId>`, scalar fields as strings, the rest JSON).
 */
export interface InstanceState {
  readonly id: string;
  readonly accountId: string;
  readonly userId?: string;
  /** `userId`, or `""` for the account-level subject. */
  readonly subject: string;
  readonly flowId: string;
  readonly flowVersion: number;
  readonly rulesetVersion: number;
  readonly status: InstanceStatus;
  readonly stepId: string | null;
  readonly stepStatus: StepStatus;
  /** ms since epoch */
  readonly stepEnteredAt: number;
  readonly stepDueAt?: number;
  /** Compare-and-set revision: every write increments it. */
  readonly rev: number;
  /**
   * The rev the current step's jobs carry (its step.enter job, its timers): the rev at which the
   * step was entered or last re-armed. A write that leaves the step as it is (a re-decision that
   * keeps the flow, a reminder) moves `rev` but not this, so those jobs stay valid. Absent in
   * states written before it existed: then it is `rev` (see `stepRevOf`).
   */
  readonly stepRev?: number;
  /** The current task's last reminder applied (its `seq`), so a re-delivered one is a no-op. */
  readonly reminded?: number;
  /** The current task's overdue mark was applied (escalated), so a re-delivered one is a no-op. */
  readonly overdue?: true;
  /** Attempt number of the current step (retries). */
  readonly attempt: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly decisionId: string;
  /** Hash of the facts the last decision used (answers, role, handover id). */
  readonly factsKey: string;
  readonly reasons: readonly Reason[];
  readonly input: RouteInput;
  /** Step ids entered so far, in order (for `reroute: { untilStep }`). */
  readonly entered: readonly string[];
  readonly error?: string;
  /** Experiment assignment, when the winning rule was an experiment. */
  readonly experiment?: { readonly id: string; readonly variant: string };
}

/** The ids of every job the instance's current step may have queued (see `cancel`). */
export function pendingStepJobIds(s: Pick<InstanceState, "id" | "stepId" | "rev" | "stepRev">): string[] {
  if (s.stepId === null) return [];
  const rev = stepRevOf(s);
  const timer = (t: StepTimer, seq?: number) => timerJobId(s.id, s.stepId ?? "", rev, t, seq);
  return [
    stepJobId(s.id, s.stepId, rev),
    timer("wait.elapsed"),
    timer("wait.timeout"),
    timer("task.overdue"),
    ...Array.from({ length: MAX_REMINDERS }, (_, i) => timer("task.remind", i + 1)),
  ];
}

/** A step timer's job id: deterministic, so arming it twice queues it once. */
export function timerJobId(
  instanceId: string,
  stepId: string,
  rev: number,
  timer: StepTimer,
  seq?: number,
): string {
  return `${instanceId}-${stepId}-${rev}-${timer}${seq === undefined ? "" : `-${seq}`}`;
}

/** Reminders a task sends at most (each arms the next). */
export const MAX_REMINDERS = 10;

/** The rev the current step's jobs carry. */
export function stepRevOf(s: Pick<InstanceState, "rev" | "stepRev">): number {
  return s.stepRev ?? s.rev;
}

/** One history entry (list `{accountId}:hist:<instanceId>`). */
export interface HistoryEntry {
  /** ISO 8601 */
  readonly at: string;
  readonly type: string;
  readonly stepId?: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

/**
 * An intent in the account's transactional outbox (list `{accountId}:outbox`), written in the
 * same atomic script as the transition that caused it; the relay turns it into a BullMQ job
 * with `jobId = id` (deterministic, no `:`), so relaying twice cannot double it.
 */
export type OutboxIntent =
  | {
      readonly id: string;
      readonly kind: "step.enter";
      readonly accountId: string;
      readonly instanceId: string;
      readonly stepId: string;
      readonly rev: number;
      /** Run no earlier than this (ms since epoch); 0 = now. */
      readonly runAt: number;
      /**
       * Analytics events of the decision that created or moved the instance: written atomically
       * with it, appended to the analytics log by the relay (off the request path), then dropped.
       */
      readonly analytics?: readonly AnalyticsEvent[];
      /**
       * The decision that created or switched the instance entered this step (no transition
       * did, so none queued the step.entered notification): the relay queues it with the job.
       */
      readonly announce?: true;
      /** An action step: its job calls out over HTTP, so it runs on the outbound queue. */
      readonly callsOut?: true;
      /**
       * A switch to another flow: the job ids the old flow's current step may still have queued
       * (its step.enter job, its timers), which the relay removes. They would be no-ops, but
       * they would sit in the queue (and its depth) until due.
       */
      readonly cancel?: readonly string[];
    }
  | {
      readonly id: string;
      /** A timer of the step entered at `rev`: a no-op unless the instance is still at that step and rev. */
      readonly kind: "step.timer";
      readonly accountId: string;
      readonly instanceId: string;
      readonly stepId: string;
      readonly rev: number;
      readonly timer: StepTimer;
      /** Reminder number (1, 2, …) for `task.remind`. */
      readonly seq?: number;
      readonly runAt: number;
    }
  | {
      readonly id: string;
      readonly kind: "account.redecide";
      readonly accountId: string;
      readonly handoverId: string;
      readonly runAt: number;
    }
  | {
      readonly id: string;
      readonly kind: "notify";
      readonly accountId: string;
      readonly instanceId: string;
      readonly event: string;
      readonly rev: number;
      readonly runAt: number;
      readonly detail?: Readonly<Record<string, unknown>>;
    };

/** What a step timer does when it fires. */
export type StepTimer = "wait.elapsed" | "wait.timeout" | "task.remind" | "task.overdue";

type NotifyIntent = Extract<OutboxIntent, { kind: "notify" }>;

/** A flow notification (`step.entered`, …) of an instance at `rev`; its id is deterministic. */
export function notifyIntent(
  at: { readonly accountId: string; readonly instanceId: string; readonly rev: number },
  event: string,
  stepId: string | undefined,
  detail?: Readonly<Record<string, unknown>>,
): NotifyIntent {
  return {
    id: `${at.instanceId}-${at.rev}-${event}${stepId ? `-${stepId}` : ""}`,
    kind: "notify",
    accountId: at.accountId,
    instanceId: at.instanceId,
    event,
    rev: at.rev,
    runAt: 0,
    detail: { ...(stepId ? { stepId } : {}), ...detail },
  };
}

/** The deterministic job id of a step entry: instance + step + revision. */
export const stepJobId = (instanceId: string, stepId: string, rev: number) =>
  `${instanceId}-${stepId}-${rev}`;
