import { z } from "zod";
import { expandDecisionRecord } from "../../../adapters/redis/decision-records.js";
import { listInstances } from "../../../adapters/redis/flow-store.js";
import type { Endpoint } from "../../context.js";
import type { RouterServices } from "../../services.js";
import { accountViewSchema, getAccount } from "../accounts/get.js";
import { accountParams, parseParams } from "../accounts/params.js";
import { recordAudit } from "./rules-audit.js";

/** At most this many decision records per answer (newest first); older ones stay readable by id. */
const MAX_DECISIONS = 50;

const adminAccountSchema = accountViewSchema
  .extend({
    instances: z.array(z.object({ instanceId: z.string(), decisionId: z.string().optional() }).loose()),
    decisions: z
      .array(z.record(z.string(), z.unknown()))
      .meta({ description: "decision records (facts, ruleset version, reasons, trace), newest first" }),
  })
  .meta({ id: "AdminAccount" });

interface AccountBody {
  accountId: string;
  instances: { instanceId: string; [k: string]: unknown }[];
  [k: string]: unknown;
}

/** Decision ids the account holds: its instances' current ones first, then the rest of its index. */
async function decisionIdsOf(svc: RouterServices, accountId: string, current: readonly string[]) {
  const indexed = (await svc.redis.smembers(svc.keys.account.decisions(accountId))) as string[];
  return [...new Set([...current, ...indexed])];
}

/**
 * `GET /v1/admin/accounts/:accountId`: the same view as `GET /v1/accounts/:accountId` (built by
 * the same handler, so the two never drift) plus each instance's `decisionId` and the account's
 * decision records, for the ops console. Admin scope, audited like a decision read.
 */
export const getAdminAccount: Endpoint<RouterServices> = {
  method: "GET",
  path: "/v1/admin/accounts/:accountId",
  scopes: ["admin"],
  openapi: {
    tags: ["admin: accounts"],
    summary: "An account as the ops console shows it: handover, instances, history and decision traces",
    request: { params: accountParams },
    responses: {
      200: { description: "the account", content: { "application/json": { schema: adminAccountSchema } } },
      404: { description: "an account the service has never seen" },
    },
  },
  handler: async (c, svc) => {
    const { accountId } = parseParams(accountParams, c.req.param());
    // Throws the same 404/422 as the api-scope view.
    const base = (await (await getAccount.handler(c, svc)).json()) as AccountBody;
    const states = await listInstances(svc, accountId);
    const decisionOf = new Map(states.map((s) => [s.id, s.decisionId]));
    const instances = base.instances.map((i) => {
      const decisionId = decisionOf.get(i.instanceId);
      return decisionId ? { ...i, decisionId } : i;
    });
    const ids = await decisionIdsOf(svc, accountId, [...decisionOf.values()]);
    const texts = ids.length
      ? ((await svc.redis.mget(...ids.map((id) => svc.keys.account.decision(accountId, id)))) as (
          | string
          | null
        )[])
      : [];
    const newest = texts
      .filter((t): t is string => typeof t === "string")
      .map((t) => JSON.parse(t) as Record<string, unknown>)
      .sort((a, b) => String(b.at ?? "").localeCompare(String(a.at ?? "")))
      .slice(0, MAX_DECISIONS);
    const decisions = await Promise.all(newest.map((r) => expandDecisionRecord(svc, r)));
    await recordAudit(
      c,
      svc,
      "read_account",
      `read account ${accountId} with ${decisions.length} decision record(s)`,
    );
    return c.json({ ...base, instances, decisions }, 200, { "cache-control": "no-store" });
  },
};

/** The console's account endpoints (Node entry only). */
export const adminAccountEndpoints: readonly Endpoint<RouterServices>[] = [getAdminAccount];
