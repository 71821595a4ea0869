import { purgeAccountEvents } from "../../../adapters/analytics/erase.js";
import { eraseAccountKeys } from "../../../adapters/redis/flow-store.js";
import type { Endpoint } from "../../context.js";
import type { RouterServices } from "../../services.js";
import { accountNotFound, accountParams, parseParams } from "./params.js";

/** Removes an account's queued jobs (the Node entry passes one bound to the flow queue). */
export type AccountJobRemover = (accountId: string) => Promise<number>;

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
      if (!(await svc.redis.exists(svc.keys.account.meta(accountId)))) throw accountNotFound(accountId);
      // Decision ids also sit in the global recent-decisions index (for backtests): drop them first.
      const decisions = await svc.redis.smembers(svc.keys.account.decisions(accountId));
      if (decisions.length > 0) await svc.redis.zrem(svc.keys.global.recentDecisions, ...decisions);
      const instances = Object.values(await svc.redis.hgetall(svc.keys.account.subjects(accountId)));
      const dueMembers = instances.map((i) => `${accountId}|${i}`);
      const dropDue = async () => {
        if (dueMembers.length > 0) await svc.redis.zrem(svc.keys.global.dueIndex, ...dueMembers);
      };
      await dropDue();
      const keys = await eraseAccountKeys(svc, accountId);
      const jobs = removeJobs ? await removeJobs(accountId) : 0;
      // A job that was running meanwhile may have re-added outbox entries or, through its
      // analytics write, a due-index entry: erase once more. (Once the instance keys are gone no
      // transition can commit, so nothing new starts after this.)
      const late = await eraseAccountKeys(svc, accountId);
      await dropDue();
      // Last: the analytics log names the account in events that jobs above may still have appended.
      const events = await purgeAccountEvents(svc.redis, svc.keys.global.analytics, accountId);
      svc.logger.info({ keys: keys + late, jobs, events }, "account erased");
      return c.body(null, 204);
    },
  };
}
