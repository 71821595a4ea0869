import type { InstanceState } from "../../core/flow/instance.js";

/**
 * An instance is stored as a hash of two fields: `rev` (read by the Lua compare-and-set) and
 * `state` (the whole InstanceState as JSON). One native JSON parse/stringify costs a fraction of
 * encoding two dozen hash fields, and HGETALL answers two fields instead of 23 on every route
 * repeat and flow step. Hashes written in the older one-field-per-property form still decode.
 */
export function encodeInstance(s: InstanceState): Record<string, string> {
  return { rev: String(s.rev), state: JSON.stringify(s) };
}

/** Appends an instance's hash fields to `out` as HSET arguments (field, value, …); same fields as `encodeInstance`. */
export function pushInstanceFields(s: InstanceState, out: (string | number)[]): void {
  out.push("rev", String(s.rev), "state", JSON.stringify(s));
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
  if (h.state) return JSON.parse(h.state) as InstanceState;
  return decodeLegacy(h);
}

/** The one-field-per-property form written before the compact one. */
function decodeLegacy(h: Record<string, string>): InstanceState | undefined {
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

/** How many HSET arguments `pushInstanceFields` appends (2 fields, each a name and a value). */
export const INSTANCE_FIELD_ARGS = 4;

/** The instance fields an HMGET for `state` plus the legacy names reads (analytics scans). */
export const INSTANCE_SUMMARY_FIELDS = ["state", "flowId", "flowVersion", "stepId", "status"] as const;

/** Flow, version, step and status from an HMGET of `INSTANCE_SUMMARY_FIELDS`. */
export function decodeInstanceSummary(
  row: readonly (string | null)[],
): { flowId: string; flowVersion: number; stepId: string | null; status: string } | undefined {
  const [state, flowId, flowVersion, stepId, status] = row;
  if (state) {
    const s = JSON.parse(state) as InstanceState;
    return { flowId: s.flowId, flowVersion: s.flowVersion, stepId: s.stepId, status: s.status };
  }
  if (!flowId) return undefined;
  return {
    flowId,
    flowVersion: Number(flowVersion) || 0,
    stepId: stepId || null,
    status: status ?? "active",
  };
}
