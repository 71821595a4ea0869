import { z } from "zod";
import { transitionInstance } from "../../../adapters/redis/flow-store.js";
import type { Endpoint } from "../../context.js";
import { ApiError } from "../../errors.js";
import type { RouterServices } from "../../services.js";
import { accountNotFound, instanceParams, parseParams } from "../accounts/params.js";

const resultSchema = z
  .object({ instanceId: z.string(), status: z.enum(["active", "completed", "cancelled", "failed"]) })
  .meta({ id: "InstanceCommandResult" });

function command(kind: "retry" | "cancel"): Endpoint<RouterServices> {
  return {
    method: "POST",
    path: `/v1/admin/accounts/:accountId/instances/:instanceId/${kind}`,
    scopes: ["admin"],
    openapi: {
      tags: ["admin"],
      summary:
        kind === "retry"
          ? "Retry a failed instance from the step that failed"
          : "Cancel an active instance (its pending jobs become no-ops)",
      request: { params: instanceParams },
      responses: {
        202: { description: "accepted", content: { "application/json": { schema: resultSchema } } },
        404: { description: "unknown account or instance" },
        409: { description: kind === "retry" ? "the instance is not failed" : "the instance is not active" },
      },
    },
    handler: async (c, svc) => {
      const { accountId, instanceId } = parseParams(instanceParams, c.req.param());
      if (!(await svc.redis.exists(svc.keys.account.meta(accountId)))) throw accountNotFound(accountId);
      const r = await transitionInstance({ ...svc, wake: svc.wakeRelay }, accountId, instanceId, { kind });
      if (r.ok) return c.json({ instanceId, status: r.value.state.status }, 202);
      if (r.error === "unknown_instance")
        throw new ApiError("not_found", `No instance ${instanceId} in account ${accountId}`);
      if (r.error === "unknown_flow")
        throw new ApiError("unavailable", "The instance's flow version is not loaded");
      throw new ApiError(
        "conflict",
        kind === "retry"
          ? "Only a failed instance can be retried"
          : "Only an active instance can be cancelled",
      );
    },
  };
}

/** `POST …/instances/:instanceId/retry` (409 unless failed). */
export const retryInstance = command("retry");
/** `POST …/instances/:instanceId/cancel` (409 unless active). */
export const cancelInstance = command("cancel");
