import { redecideAccount } from "../../adapters/redis/route-store.js";
import type { Processor } from "../context.js";

/** A late handover arrived: re-run the routing decision for the account's instances. */
export const processRedecide: Processor<"account.redecide"> = async (job, ctx) => {
  const moved = await redecideAccount(ctx.services, job.data.accountId);
  return `rerouted:${moved}`;
};
