import { Cluster } from "ioredis";
import { z } from "zod";
import { decodeInstanceSummary, INSTANCE_SUMMARY_FIELDS } from "../../../adapters/redis/instance-codec.js";
import type { Endpoint } from "../../context.js";
import type { RouterServices } from "../../services.js";

/** At most this many instance keys are read for one answer (the answer says when it stopped). */
export const MAX_INSTANCE_KEYS = 50_000;
const SCAN_COUNT = 1_000;
const STATUSES = ["active", "completed", "cancelled", "failed"] as const;

const bucket = z
  .object({
    flow: z.string(),
    version: z.number().int(),
    step: z.string().nullable().meta({ description: "the current step; null once the flow has ended" }),
    status: z.enum(STATUSES),
    count: z.number().int(),
  })
  .meta({ id: "InstancesByStepBucket" });

const instancesReport = z
  .object({
    now: z.string(),
    scanned: z.number().int().meta({ description: "instance keys read" }),
    truncated: z.boolean().meta({ description: `true when more than ${MAX_INSTANCE_KEYS} keys exist` }),
    buckets: z.array(bucket),
  })
  .meta({
    id: "InstancesByStep",
    example: {
      now: "2026-01-20T09:00:00.000Z",
      scanned: 412,
      truncated: false,
      buckets: [
        { flow: "fast-track", version: 2, step: "self-serve-checklist", status: "active", count: 37 },
        { flow: "fast-track", version: 2, step: null, status: "completed", count: 290 },
      ],
    },
  });

const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, "\\$&");

/**
 * Counts flow instances by flow, version, current step and status: SCANs every master for the
 * account instance keys (`<prefix>{<account>}:inst:<id>`), reading at most `max` of them.
 */
export async function countInstancesByStep(
  svc: Pick<RouterServices, "redis" | "keys">,
  max = MAX_INSTANCE_KEYS,
): Promise<{ scanned: number; truncated: boolean; buckets: z.infer<typeof bucket>[] }> {
  const nodes = svc.redis instanceof Cluster ? svc.redis.nodes("master") : [svc.redis];
  const pattern = `${globEscape(svc.keys.prefix)}{*}:inst:*`;
  const counts = new Map<string, z.infer<typeof bucket>>();
  let scanned = 0;
  let truncated = false;
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, found] = await node.scan(cursor, "MATCH", pattern, "COUNT", SCAN_COUNT);
      cursor = next;
      const batch = found.slice(0, Math.max(0, max - scanned));
      if (batch.length < found.length) truncated = true;
      if (batch.length > 0) {
        const pipeline = node.pipeline();
        for (const key of batch) pipeline.hmget(key, ...INSTANCE_SUMMARY_FIELDS);
        const rows = (await pipeline.exec()) ?? [];
        for (const [e, value] of rows) {
          if (e || !Array.isArray(value)) continue;
          const summary = decodeInstanceSummary(value as (string | null)[]);
          if (!summary) continue;
          const status = STATUSES.find((s) => s === summary.status) ?? "active";
          const b = {
            flow: summary.flowId,
            version: summary.flowVersion,
            step: status === "active" && summary.stepId ? summary.stepId : null,
            status,
            count: 0,
          };
          const id = `${b.flow}\u0000${b.version}\u0000${b.step ?? ""}\u0000${b.status}`;
          const existing = counts.get(id) ?? b;
          existing.count++;
          counts.set(id, existing);
        }
        scanned += batch.length;
      }
      if (scanned >= max && cursor !== "0") {
        truncated = true;
        break;
      }
    } while (cursor !== "0");
    if (truncated) break;
  }
  const buckets = [...counts.values()].sort(
    (a, b) =>
      a.flow.localeCompare(b.flow) ||
      a.version - b.version ||
      STATUSES.indexOf(a.status) - STATUSES.indexOf(b.status) ||
      (a.step ?? "").localeCompare(b.step ?? ""),
  );
  return { scanned, truncated, buckets };
}

/** `GET /v1/admin/analytics/instances`: how many instances sit in each step of each flow version now. */
export const instancesByStep: Endpoint<RouterServices> = {
  method: "GET",
  path: "/v1/admin/analytics/instances",
  scopes: ["admin"],
  openapi: {
    tags: ["admin: analytics"],
    summary: "Instances right now, per flow, version, current step and status",
    description: `A live count (not the analytics log): scans the instance keys on every Redis master, at most ${MAX_INSTANCE_KEYS} of them; \`truncated\` says when it stopped early. \`step\` is null for instances that are no longer active.`,
    responses: {
      200: { description: "The counts", content: { "application/json": { schema: instancesReport } } },
    },
  },
  handler: async (c, svc) => {
    const now = svc.clock.now();
    const result = await countInstancesByStep(svc);
    return c.json({ now: now.toISOString(), ...result }, 200);
  },
};
