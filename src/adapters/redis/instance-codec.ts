import type { InstanceState } from "../../core/flow/instance.js";

/** Flattens an instance into Redis hash fields (HSET args). */
export function encodeInstance(s: InstanceState): Record<string, string> {
  return {
    id: s.id,
    accountId: s.accountId,
    userId: s.userId ?? "",
    subject: s.subject,
    flowId: s.flowId,
    flowVersion: String(s.flowVersion),
    rulesetVersion: String(s.rulesetVersion),
    status: s.status,
    stepId: s.stepId ?? "",
    stepStatus: s.stepStatus,
    stepEnteredAt: String(s.stepEnteredAt),
    stepDueAt: s.stepDueAt === undefined ? "" : String(s.stepDueAt),
    rev: String(s.rev),
    attempt: String(s.attempt),
    createdAt: String(s.createdAt),
    updatedAt: String(s.updatedAt),
    decisionId: s.decisionId,
    factsKey: s.factsKey,
    reasons: JSON.stringify(s.reasons),
    input: JSON.stringify(s.input),
    entered: JSON.stringify(s.entered),
    error: s.error ?? "",
    experiment: s.experiment ? JSON.stringify(s.experiment) : "",
  };
}

/** Appends an instance's hash fields to `out` as HSET arguments (field, value, …); same fields as `encodeInstance`. */
export function pushInstanceFields(s: InstanceState, out: (string | number)[]): void {
  out.push(
    "id",
    s.id,
    "accountId",
    s.accountId,
    "userId",
    s.userId ?? "",
    "subject",
    s.subject,
    "flowId",
    s.flowId,
    "flowVersion",
    String(s.flowVersion),
    "rulesetVersion",
    String(s.rulesetVersion),
    "status",
    s.status,
    "stepId",
    s.stepId ?? "",
    "stepStatus",
    s.stepStatus,
    "stepEnteredAt",
    String(s.stepEnteredAt),
    "stepDueAt",
    s.stepDueAt === undefined ? "" : String(s.stepDueAt),
    "rev",
    String(s.rev),
    "attempt",
    String(s.attempt),
    "createdAt",
    String(s.createdAt),
    "updatedAt",
    String(s.updatedAt),
    "decisionId",
    s.decisionId,
    "factsKey",
    s.factsKey,
    "reasons",
    JSON.stringify(s.reasons),
    "input",
    JSON.stringify(s.input),
    "entered",
    JSON.stringify(s.entered),
    "error",
    s.error ?? "",
    "experiment",
    s.experiment ? JSON.stringify(s.experiment) : "",
  );
}

/** Reads an instance from HGETALL output (object or flat array); undefined when empty. */
export function decodeInstance(
  raw: Record<string, string> | readonly string[] | null | undefined,
): InstanceState | undefined {
  if (!raw) return undefined;
  let h: Record<string, string>;
  if (Array.isArray(raw)) {
    h = {};
    for (let i = 0; i + 1 < raw.length; i += 2) h[raw[i]!] = raw[i + 1]!;
  } else h = raw as Record<string, string>;
  if (!h.id) return undefined;
  const num = (v: string | undefined) => (v ? Number(v) : 0);
  return {
    id: h.id,
    accountId: h.accountId ?? "",
    ...(h.userId ? { userId: h.userId } : {}),
    subject: h.subject ?? "",
    flowId: h.flowId ?? "",
    flowVersion: num(h.flowVersion),
    rulesetVersion: num(h.rulesetVersion),
    status: (h.status ?? "active") as InstanceState["status"],
    stepId: h.stepId ? h.stepId : null,
    stepStatus: (h.stepStatus ?? "pending") as InstanceState["stepStatus"],
    stepEnteredAt: num(h.stepEnteredAt),
    ...(h.stepDueAt ? { stepDueAt: Number(h.stepDueAt) } : {}),
    rev: num(h.rev),
    attempt: num(h.attempt),
    createdAt: num(h.createdAt),
    updatedAt: num(h.updatedAt),
    decisionId: h.decisionId ?? "",
    factsKey: h.factsKey ?? "",
    reasons: h.reasons ? JSON.parse(h.reasons) : [],
    input: h.input ? JSON.parse(h.input) : { answers: {} },
    entered: h.entered ? JSON.parse(h.entered) : [],
    ...(h.error ? { error: h.error } : {}),
    ...(h.experiment ? { experiment: JSON.parse(h.experiment) } : {}),
  };
}

/** How many HSET arguments `pushInstanceFields` appends (23 fields, each a name and a value). */
export const INSTANCE_FIELD_ARGS = 46;
