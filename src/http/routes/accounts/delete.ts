import { purgeAccountEvents } from "../../../adapters/analytics/erase.js";
import type { ErasedJobs } from "../../../adapters/queue/erase.js";
import { eraseAccount } from "../../../adapters/redis/flow-store.js";
import { forgetWebhookOwners } from "../../../adapters/redis/handover-store.js";
import type { Endpoint } from "../../context.js";
import type { RouterServices } from "../../services.js";
import { accountNotFound, accountParams, parseParams } from "./params.js";

/** Removes an erased account's queued jobs (the Node entry passes one bound to its queues). */
export type AccountJobRemover = (erased: ErasedJobs) => Promise<number>;

/** `DELETE /v1/accounts/:accountId`: erases every key of the account, then its queued jobs. */
export function accountDeleteEndpoint(removeJobs: AccountJobRemover | undefined): Endpoint<RouterServices> {
  return {
    method: "DELETE",
    path: "/v1/accounts/:accountId",
    scopes: ["admin"],
    openapi: {
      tags: ["accounts"],
      summary: "Erase everything stored about an account and cancel its jobs",
      request: { params: accountParams },
      responses: { 204: { description: "erased" }, 404: { description: "unknown account" } },
    },
    handler: async (c, svc) => {
      const { accountId } = parseParams(accountParams, c.req.param());
      // 1. Every key of the account in one atomic call: a route, event or handover racing the
      //    erase lands wholly before it (erased) or wholly after it (a fresh start), never half.
      const erasedAt = Date.now();
      const erased = await eraseAccount(svc, accountId);
      if (!erased) throw accountNotFound(accountId);
      // 2. What other slots hold about it: the backtest index of recent decisions, the due
      //    index of its instances and the owner records of its webhook ids. No transition can commit once its instance is gone.
      if (erased.decisionIds.length > 0)
        await svc.redis.zrem(svc.keys.global.recentDecisions, ...erased.decisionIds);
      if (erased.instanceIds.length > 0)
        await svc.redis.zrem(svc.keys.global.dueIndex, ...erased.instanceIds.map((i) => `${accountId}|${i}`));
      await forgetWebhookOwners(svc, accountId, erased.webhookIds);
      // 3. Its queued jobs (they would end as no-ops on the missing instances, but they name it);
      //    not those of an account a route or handover started afresh since.
      const jobs = removeJobs
        ? await removeJobs({ accountId, instanceIds: new Set(erased.instanceIds), at: erasedAt })
        : 0;
      // 4. Last: the analytics log names the account in events that jobs above may have appended.
      const events = await purgeAccountEvents(svc.redis, svc.keys.global.analytics, accountId);
      svc.logger.info({ keys: erased.keys, jobs, events }, "account erased");
      return c.body(null, 204);
    },
  };
}
