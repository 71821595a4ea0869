import type { Decision, PublicReason, Reason } from "./decision/types.js";
import type { InstanceState, RouteInput } from "./flow/instance.js";
import { canonicalJson } from "./ruleset/hash.js";
import type { FlowDefinition, FlowStep } from "./ruleset/schemas.js";

/**
 * The subject of a flow instance inside its account: the user, or `""` for the account itself
 * (no id can be empty, so the account-level subject never collides with a user's).
 */
export const ACCOUNT_SUBJECT = "";
export const subjectOf = (userId: string | undefined) => userId ?? ACCOUNT_SUBJECT;

/** 53-bit FNV-1a-style hash as base36: cheap and stable, for change detection (not security). */
export function shortHash(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return ((h1 >>> 0) * 0x200000 + ((h2 >>> 0) & 0x1fffff)).toString(36);
}

/** Identifies the facts a decision depends on: answers, role and which handover (context is not a fact). */
export function factsKeyOf(input: RouteInput, handoverId: string | undefined): string {
  return shortHash(canonicalJson({ a: input.answers, r: input.role ?? null, h: handoverId ?? null }));
}

/** Whether the flow's re-route policy still lets a new decision move this instance. */
export function rerouteAllowed(flow: FlowDefinition | undefined, instance: InstanceState): boolean {
  if (instance.status !== "active" || !flow) return false;
  const policy = flow.reroute;
  if (policy === "never") return false;
  if (policy === "always") return true;
  return !instance.entered.includes(policy.untilStep);
}

export function firstStep(flow: FlowDefinition): FlowStep | undefined {
  return flow.steps[0];
}

export function stepOf(flow: FlowDefinition | undefined, stepId: string | null): FlowStep | undefined {
  if (!flow || stepId === null) return undefined;
  return flow.steps.find((s) => s.id === stepId);
}

/** The public reasons (winning rule with its condition trace, or the default-flow reason). */
export function reasonsOf(decision: Decision, hasHandover: boolean): Reason[] {
  const reasons = [...decision.reasons];
  if (!hasHandover && reasons[0]) {
    const r = reasons[0];
    const note = NO_HANDOVER_NOTE;
    reasons[0] = { ...r, message: r.message ? `${r.message} ${note}` : note };
  }
  return reasons;
}

const NO_HANDOVER_NOTE = "No handover has arrived yet: decided on the survey alone.";

/**
 * Reasons for a browser-safe public key: rule names and condition shapes only. Not the fact
 * values, nor each condition's `result` (a true `segment equal "enterprise"` is the segment),
 * nor the nearest misses (which rules nearly matched says what a handover holds or lacks),
 * nor whether a handover arrived.
 */
export function withoutFactValues(reasons: readonly Reason[]): PublicReason[] {
  return reasons.map((r) => {
    const { message, nearestMisses: _misses, conditions, ...out } = r;
    const shapes = conditions.map(({ fact, path, operator, value }) => ({
      fact,
      ...(path === undefined ? {} : { path }),
      operator,
      value,
    }));
    const kept = message?.replace(NO_HANDOVER_NOTE, "").trim();
    return { ...out, conditions: shapes, ...(kept ? { message: kept } : {}) };
  });
}

const B64URL = /^[A-Za-z0-9_-]+$/;

/** Decision ids carry their account (base64url) so a record is found without a global index. */
export function newDecisionId(accountId: string, random: string): string {
  const bytes = new TextEncoder().encode(accountId);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  const b64 = btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return `dec_${b64}_${random}`;
}

/** The account id inside a decision id, or undefined for a malformed id. */
export function accountOfDecision(decisionId: string): string | undefined {
  const m = /^dec_([A-Za-z0-9_-]+)_([a-z0-9]{8,40})$/.exec(decisionId);
  if (!m || !B64URL.test(m[1]!)) return undefined;
  try {
    const bin = atob(m[1]!.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
