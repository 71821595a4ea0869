import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Facts } from "../../../src/core/decision/types.js";
import { addDuration } from "../../../src/core/flow/calendar.js";
import { type InstanceState, pendingStepJobIds } from "../../../src/core/flow/instance.js";
import { advance } from "../../../src/core/flow/transition.js";
import type { FlowDefinition } from "../../../src/core/ruleset/schemas.js";

const DAY = 86_400_000;
const NOW = Date.parse("2026-01-16T09:00:00Z"); // a Friday

const flow: FlowDefinition = {
  id: "f",
  name: "F",
  reroute: "never",
  steps: [
    { id: "call", type: "action", title: "Call", url: "https://example.com/x" },
    {
      id: "pick",
      type: "branch",
      title: "Pick",
      branches: [
        {
          conditions: { all: [{ fact: "survey", path: "$.big", operator: "equal", value: true }] },
          next: "task",
        },
      ],
      otherwise: "done",
    },
    {
      id: "task",
      type: "task",
      title: "Task",
      assignee: "csm",
      sla: "P2D",
      businessDays: true,
      completeOn: "task.done",
      remindEvery: "P1D",
      escalateTo: "boss",
    },
    { id: "done", type: "end", title: "Done", outcome: "ok" },
  ],
};

const inst = (over: Partial<InstanceState> = {}): InstanceState => ({
  id: "fi_1",
  accountId: "acme",
  subject: "",
  flowId: "f",
  flowVersion: 1,
  rulesetVersion: 1,
  status: "active",
  stepId: "call",
  stepStatus: "pending",
  stepEnteredAt: NOW,
  rev: 1,
  attempt: 0,
  createdAt: NOW,
  updatedAt: NOW,
  decisionId: "d",
  factsKey: "k",
  reasons: [],
  input: { answers: {} },
  entered: ["call"],
  ...over,
});

const facts = (big: boolean): Facts =>
  ({ survey: { big }, user: {}, now: new Date(NOW).toISOString(), account: {} }) as unknown as Facts;

describe("flow transitions", () => {
  it("takes the matching branch and arms the task with a business-day SLA, a reminder and an overdue timer", () => {
    const t = advance(
      flow,
      inst(),
      { kind: "action.succeeded", stepId: "call", rev: 1 },
      { now: NOW, facts: facts(true) },
    );
    if (!t.ok) throw new Error(t.error);
    expect(t.value.state).toMatchObject({
      stepId: "task",
      stepStatus: "waiting",
      rev: 2,
      stepDueAt: NOW + 4 * DAY,
    });
    expect(t.value.history.map((h) => h.type)).toEqual([
      "action.succeeded",
      "step.completed",
      "step.entered",
      "branch.taken",
      "step.entered",
    ]);
    const timers = t.value.intents.filter((i) => i.kind === "step.timer");
    expect(timers.map((i) => (i.kind === "step.timer" ? i.timer : ""))).toEqual([
      "task.overdue",
      "task.remind",
    ]);
  });

  it("completes the flow through the otherwise branch and an end step", () => {
    const t = advance(
      flow,
      inst(),
      { kind: "action.succeeded", stepId: "call", rev: 1 },
      { now: NOW, facts: facts(false) },
    );
    if (!t.ok) throw new Error(t.error);
    expect(t.value.state.status).toBe("completed");
    expect(t.value.intents.some((i) => i.kind === "notify" && i.event === "flow.completed")).toBe(true);
  });

  it("treats a job for an earlier revision as stale", () => {
    expect(
      advance(flow, inst({ rev: 3 }), { kind: "action.succeeded", stepId: "call", rev: 2 }, { now: NOW }),
    ).toEqual({
      ok: false,
      error: "stale",
    });
  });

  it("escalates an overdue task without changing its step's revision: the task's other timers stay valid", () => {
    const s = inst({ stepId: "task", stepStatus: "waiting", rev: 5 });
    const t = advance(
      flow,
      s,
      { kind: "timer", timer: "task.overdue", stepId: "task", rev: 5 },
      { now: NOW },
    );
    if (!t.ok) throw new Error(t.error);
    expect(t.value.state).toMatchObject({ rev: 6, stepRev: 5 });
    const remind = advance(
      flow,
      t.value.state,
      { kind: "timer", timer: "task.remind", stepId: "task", rev: 5 },
      { now: NOW },
    );
    expect(remind.ok).toBe(true);
    expect(t.value.history[0]).toMatchObject({ type: "escalated", detail: { escalateTo: "boss" } });
    expect(t.value.intents.some((i) => i.kind === "notify" && i.event === "task.overdue")).toBe(true);
  });

  it("runs a step's jobs by the step's rev: a later write that kept the step (a re-decision) leaves them valid", () => {
    // Written at rev 7 by a re-decision that kept the flow; the task was armed at rev 5.
    const s = inst({ stepId: "task", stepStatus: "waiting", rev: 7, stepRev: 5 });
    const due = advance(
      flow,
      s,
      { kind: "timer", timer: "task.overdue", stepId: "task", rev: 5 },
      { now: NOW },
    );
    expect(due.ok).toBe(true);
    expect(
      advance(flow, s, { kind: "timer", timer: "task.overdue", stepId: "task", rev: 7 }, { now: NOW }),
    ).toEqual({
      ok: false,
      error: "stale",
    });
    // A state written before stepRev existed: the step's rev is its rev.
    const { stepRev: _r, ...old } = inst({ stepId: "task", stepStatus: "waiting", rev: 7 });
    expect(
      advance(flow, old, { kind: "timer", timer: "task.overdue", stepId: "task", rev: 7 }, { now: NOW }).ok,
    ).toBe(true);
  });

  it("applies a re-delivered reminder or overdue timer once: the second delivery is stale", () => {
    const s = inst({ stepId: "task", stepStatus: "waiting", rev: 5 });
    const overdue = { kind: "timer", timer: "task.overdue", stepId: "task", rev: 5 } as const;
    const once = advance(flow, s, overdue, { now: NOW });
    if (!once.ok) throw new Error(once.error);
    expect(advance(flow, once.value.state, overdue, { now: NOW })).toEqual({ ok: false, error: "stale" });
    const remind = (seq: number) =>
      ({ kind: "timer", timer: "task.remind", stepId: "task", rev: 5, seq }) as const;
    const r1 = advance(flow, once.value.state, remind(1), { now: NOW });
    if (!r1.ok) throw new Error(r1.error);
    expect(advance(flow, r1.value.state, remind(1), { now: NOW })).toEqual({ ok: false, error: "stale" });
    const r2 = advance(flow, r1.value.state, remind(2), { now: NOW });
    expect(r2.ok && r2.value.history[0]).toMatchObject({ type: "reminded", detail: { reminder: 2 } });
    // A step entered afresh starts its marks over.
    const done = advance(flow, once.value.state, { kind: "event", type: "task.done" }, { now: NOW });
    expect(done.ok && done.value.state).not.toHaveProperty("overdue");
  });

  it("names every job a step can have queued, so a flow switch can cancel them", () => {
    // The call succeeds → the branch → the task: its overdue timer and first reminder.
    const s = inst({ stepId: "call", stepStatus: "pending", rev: 3 });
    const entered = advance(
      flow,
      s,
      { kind: "action.succeeded", stepId: "call", rev: 3 },
      {
        now: NOW,
        facts: { survey: { big: true } } as unknown as Facts,
      },
    );
    if (!entered.ok) throw new Error(entered.error);
    expect(entered.value.state.stepId).toBe("task");
    const timers = entered.value.intents.filter((i) => i.kind === "step.timer").map((i) => i.id);
    expect(timers.length).toBe(2);
    const queued = pendingStepJobIds(entered.value.state);
    for (const id of timers) expect(queued).toContain(id);
    // …and the reminder a reminder arms, and the pending action job of a step not yet run.
    const reminded = advance(
      flow,
      entered.value.state,
      { kind: "timer", timer: "task.remind", stepId: "task", rev: 4, seq: 1 },
      { now: NOW },
    );
    if (!reminded.ok) throw new Error(reminded.error);
    const next = reminded.value.intents.find((i) => i.kind === "step.timer");
    expect(pendingStepJobIds(reminded.value.state)).toContain(next?.id);
    expect(pendingStepJobIds(s)).toContain("fi_1-call-3");
  });

  it("completes a task only on its completeOn event and only for the step named", () => {
    const s = inst({ stepId: "task", stepStatus: "waiting", rev: 5 });
    expect(advance(flow, s, { kind: "event", type: "other" }, { now: NOW })).toEqual({
      ok: false,
      error: "no_match",
    });
    expect(advance(flow, s, { kind: "event", type: "task.done", stepId: "call" }, { now: NOW }).ok).toBe(
      false,
    );
    const t = advance(flow, s, { kind: "event", type: "task.done" }, { now: NOW });
    expect(t.ok && t.value.state.status).toBe("completed");
  });

  it("fails an instance on a failed action and retries only a failed one", () => {
    const f = advance(
      flow,
      inst(),
      { kind: "action.failed", stepId: "call", rev: 1, error: "HTTP 500" },
      { now: NOW },
    );
    if (!f.ok) throw new Error(f.error);
    expect(f.value.state).toMatchObject({ status: "failed", error: "HTTP 500" });
    expect(advance(flow, inst(), { kind: "retry" }, { now: NOW })).toEqual({
      ok: false,
      error: "not_failed",
    });
    const r = advance(flow, f.value.state, { kind: "retry" }, { now: NOW });
    expect(r.ok && r.value.state).toMatchObject({
      status: "active",
      stepStatus: "pending",
      attempt: 1,
      rev: 3,
    });
  });

  it("counts business days so that a due time never lands on a weekend", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 30 }), (dayOffset, days) => {
        const start = Date.parse("2026-01-05T10:00:00Z") + dayOffset * DAY; // from a Monday
        const weekday = new Date(start).getUTCDay();
        if (weekday === 0 || weekday === 6) return;
        const due = new Date(addDuration(start, days * DAY, true)).getUTCDay();
        expect(due).not.toBe(0);
        expect(due).not.toBe(6);
        expect(addDuration(start, days * DAY, true)).toBeGreaterThanOrEqual(start + days * DAY);
      }),
    );
  });
});
