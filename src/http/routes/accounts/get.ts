import { z } from "zod";
import { readAccount } from "../../../adapters/redis/account-read.js";
import { computeHandoverGaps, type HandoverView } from "../../../core/facts.js";
import type { HistoryEntry, InstanceState } from "../../../core/flow/instance.js";
import { canonicalHandoverSchema } from "../../../core/handover/schema.js";
import type { Endpoint } from "../../context.js";
import type { RouterServices } from "../../services.js";
import { accountNotFound, accountParams, parseParams } from "./params.js";

const historyEntry = z.object({
  at: z.string(),
  type: z.string(),
  stepId: z.string().optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
});

const recordedView = z
  .object({
    kind: z.enum(["event", "outcome"]),
    at: z.string(),
    type: z.string(),
    applied: z.boolean().optional().meta({ description: "events: whether it moved a step" }),
  })
  .catchall(z.unknown());

const instanceView = z.object({
  instanceId: z.string(),
  userId: z.string().optional(),
  flow: z.object({ id: z.string(), version: z.number().int() }),
  status: z.enum(["active", "completed", "cancelled", "failed"]),
  currentStep: z
    .object({
      id: z.string(),
      type: z.string(),
      status: z.enum(["pending", "running", "waiting", "done", "failed"]),
      enteredAt: z.string(),
      dueAt: z.string().optional(),
    })
    .nullable(),
  error: z.string().optional().meta({ description: "why the instance failed (status failed)" }),
  history: z.array(historyEntry),
});

export const accountViewSchema = z
  .object({
    accountId: z.string(),
    handover: canonicalHandoverSchema
      .extend({
        handoverId: z.string().optional(),
        receivedAt: z.string(),
        source: z.string().optional().meta({ description: "webhook (canonical), hubspot or salesforce" }),
        gaps: z.array(z.string()).meta({ description: "what the handover lacks (handoverGaps)" }),
      })
      .meta({ description: "The latest handover as received (strings verbatim), with its gaps." })
      .optional(),
    instances: z.array(instanceView),
    events: z.array(recordedView).meta({
      description:
        "the account's recent events (applied or not: an event nothing waited for is recorded here) and outcomes, newest first, up to 50",
    }),
  })
  .meta({ id: "Account" });

type InstanceView = z.infer<typeof instanceView>;
type AccountView = z.infer<typeof accountViewSchema>;

async function viewOf(
  svc: RouterServices,
  s: InstanceState,
  history: readonly HistoryEntry[],
): Promise<InstanceView> {
  const flow = await svc.rules.flow(s.flowId, s.flowVersion);
  const step = flow?.steps.find((x) => x.id === s.stepId);
  const open = s.status === "active" || s.status === "failed";
  return {
    instanceId: s.id,
    ...(s.userId ? { userId: s.userId } : {}),
    flow: { id: s.flowId, version: s.flowVersion },
    status: s.status,
    currentStep:
      open && s.stepId
        ? {
            id: s.stepId,
            type: step?.type ?? "unknown",
            status: s.stepStatus,
            enteredAt: new Date(s.stepEnteredAt).toISOString(),
            ...(s.stepDueAt !== undefined ? { dueAt: new Date(s.stepDueAt).toISOString() } : {}),
          }
        : null,
    ...(s.error ? { error: s.error } : {}),
    history: [...history],
  };
}

/** `GET /v1/accounts/:accountId`: the latest handover, flow instances, current steps, history. */
export const getAccount: Endpoint<RouterServices> = {
  method: "GET",
  path: "/v1/accounts/:accountId",
  scopes: ["api"],
  openapi: {
    tags: ["accounts"],
    summary: "An account's latest handover, flow instances, current steps and history",
    request: { params: accountParams },
    responses: {
      200: { description: "the account", content: { "application/json": { schema: accountViewSchema } } },
      404: { description: "an account the service has never seen" },
    },
  },
  handler: async (c, svc) => {
    const { accountId } = parseParams(accountParams, c.req.param());
    const snapshot = await readAccount(svc, accountId);
    if (!snapshot) throw accountNotFound(accountId);
    const instances = await Promise.all(snapshot.instances.map((i) => viewOf(svc, i.state, i.history)));
    const rawHandover = snapshot.handover;
    let handover: AccountView["handover"];
    if (rawHandover) {
      const h = JSON.parse(rawHandover) as NonNullable<AccountView["handover"]> & HandoverView;
      handover = { ...h, receivedAt: h.receivedAt ?? "", gaps: computeHandoverGaps(h) };
    }
    const events = snapshot.events.map(({ kind, accountId: _id, ...rest }) => ({
      kind: kind === "outcome" ? "outcome" : "event",
      ...rest,
    }));
    return c.json({ accountId, ...(handover ? { handover } : {}), instances, events }, 200, {
      "cache-control": "no-store",
    });
  },
};
