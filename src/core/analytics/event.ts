/**
 * The analytics log's event shape: ids and routing facts only, never personal data
 * (NOTES.md "Privacy and observability"). One event is one entry of the bounded stream.
 */

export const ANALYTICS_EVENT_TYPES = [
  "decision",
  "step.entered",
  "step.completed",
  "task.overdue",
  "flow.completed",
  "flow.failed",
  "outcome",
  "rerouted",
] as const;

export type AnalyticsEventType = (typeof ANALYTICS_EVENT_TYPES)[number];

export interface AnalyticsEvent {
  readonly type: AnalyticsEventType;
  /** ISO 8601 */
  readonly at: string;
  readonly accountId: string;
  readonly instanceId?: string;
  readonly flow: string;
  readonly flowVersion?: number;
  readonly segment?: string;
  readonly stepId?: string;
  readonly stage?: string;
  readonly experiment?: string;
  readonly variant?: string;
  /** The winning rule of a decision (null/absent = the default flow). */
  readonly rule?: string;
  /** For `rerouted`: the flow the instance left. */
  readonly from?: string;
  /** For `outcome`: its type (`nps`, `activated`, `value_realized`, `churned`, custom). */
  readonly outcome?: string;
  /** For `outcome`: the NPS score or the custom value. */
  readonly value?: number;
}

const STRING_FIELDS = [
  "accountId",
  "instanceId",
  "flow",
  "segment",
  "stepId",
  "stage",
  "experiment",
  "variant",
  "rule",
  "from",
  "outcome",
] as const;
const NUMBER_FIELDS = ["flowVersion", "value"] as const;

/** Flat `field value …` pairs for XADD (absent fields are left out). */
export function encodeEvent(e: AnalyticsEvent): string[] {
  const out = ["type", e.type, "at", e.at];
  for (const f of STRING_FIELDS) {
    const v = e[f];
    if (v !== undefined) out.push(f, v);
  }
  for (const f of NUMBER_FIELDS) {
    const v = e[f];
    if (v !== undefined) out.push(f, String(v));
  }
  return out;
}

const TYPES = new Set<string>(ANALYTICS_EVENT_TYPES);

/** Reads one stream entry's fields back; undefined for entries that are not analytics events. */
export function decodeEvent(fields: readonly string[]): AnalyticsEvent | undefined {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) m.set(fields[i]!, fields[i + 1]!);
  const type = m.get("type");
  const at = m.get("at");
  const accountId = m.get("accountId");
  const flow = m.get("flow");
  if (!type || !TYPES.has(type) || !at || !accountId || flow === undefined) return undefined;
  const e: Record<string, unknown> = { type, at, accountId, flow };
  for (const f of STRING_FIELDS) {
    const v = m.get(f);
    if (v !== undefined && f !== "accountId" && f !== "flow") e[f] = v;
  }
  for (const f of NUMBER_FIELDS) {
    const v = m.get(f);
    if (v !== undefined && Number.isFinite(Number(v))) e[f] = Number(v);
  }
  return e as unknown as AnalyticsEvent;
}

/** The UTC day (`YYYY-MM-DD`) an event counts on. */
export const dayOf = (at: string | number): string => new Date(at).toISOString().slice(0, 10);

/** The NPS bucket of a 0–10 score. */
export function npsBucket(score: number): "promoter" | "passive" | "detractor" {
  return score >= 9 ? "promoter" : score >= 7 ? "passive" : "detractor";
}

/**
 * The daily counter fields an event increments (HINCRBY 1 each), per flow, flow version,
 * segment and step, e.g. `started|flow=fast-track|seg=smb`.
 */
export function counterFields(e: AnalyticsEvent): string[] {
  const seg = e.segment ?? "unknown";
  const fs = `flow=${e.flow}|seg=${seg}`;
  const fv = e.flowVersion !== undefined ? `flow=${e.flow}|v=${e.flowVersion}` : undefined;
  const step = `flow=${e.flow}|step=${e.stepId ?? "-"}|seg=${seg}`;
  const withVersion = (name: string) => (fv ? [`${name}|${fs}`, `${name}|${fv}`] : [`${name}|${fs}`]);
  switch (e.type) {
    case "decision":
      return withVersion("started");
    case "rerouted":
      return [...withVersion("started"), `rerouted|from=${e.from ?? "-"}|${fs}`];
    case "step.entered":
      return [`entered|${step}`];
    case "step.completed":
      return [`stepdone|${step}`];
    case "task.overdue":
      return [`overdue|${step}`];
    case "flow.completed":
      return withVersion("completed");
    case "flow.failed":
      return withVersion("failed");
    case "outcome": {
      const name = e.outcome ?? "custom";
      const out = [`outcome=${name}|${fs}`];
      if (name === "nps" && e.value !== undefined) out.push(`nps=${npsBucket(e.value)}|${fs}`);
      return out;
    }
  }
}
