import { z } from "zod";
import { applyEvent } from "../../../adapters/redis/flow-store.js";
import { SUBJECT_ID_MESSAGE, SUBJECT_ID_PATTERN } from "../../../core/ids.js";
import { readJson } from "../../body.js";
import type { Endpoint } from "../../context.js";
import { ApiError, detailOf, zodFieldErrors } from "../../errors.js";
import type { RouterServices } from "../../services.js";
import { accountNotFound, accountParams, parseParams } from "./params.js";

export const eventRequestSchema = z
  .strictObject({
    type: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, "expected an event type such as workspace.configured"),
    eventId: z
      .string()
      .regex(/^[A-Za-z0-9._:@-]{1,128}$/, "must be 1–128 characters of A-Z a-z 0-9 . _ : @ -")
      .optional(),
    userId: z.string().regex(SUBJECT_ID_PATTERN, SUBJECT_ID_MESSAGE).optional(),
    stepId: z.string().min(1).max(64).optional(),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: "AccountEvent", example: { type: "kickoff.completed", eventId: "evt_1" } });

const eventResponseSchema = z
  .object({ applied: z.boolean(), duplicate: z.boolean() })
  .meta({ id: "AccountEventResult" });

/** `POST /v1/accounts/:accountId/events`: moves on the steps waiting for this event type; idempotent on eventId (72 h). */
export const postAccountEvent: Endpoint<RouterServices> = {
  method: "POST",
  path: "/v1/accounts/:accountId/events",
  scopes: ["api", "public"],
  openapi: {
    tags: ["accounts"],
    summary: "Something happened (step done, task completed, milestone)",
    description:
      "Goes to the instance of `userId` when given, else to every active instance. `applied` says whether a step moved; an event nothing waits for is recorded, not an error. The same `eventId` within 72 h answers `duplicate: true` with the first `applied`.",
    request: {
      params: accountParams,
      body: { content: { "application/json": { schema: eventRequestSchema } }, required: true },
    },
    responses: {
      202: { description: "recorded", content: { "application/json": { schema: eventResponseSchema } } },
      404: { description: "unknown account" },
    },
  },
  handler: async (c, svc) => {
    // Size → media type → syntax before validation (the path id included), as the contract orders.
    const raw = await readJson(c);
    const { accountId } = parseParams(accountParams, c.req.param());
    const parsed = eventRequestSchema.safeParse(raw);
    if (!parsed.success) {
      const errors = zodFieldErrors(parsed.error.issues);
      throw new ApiError("validation_failed", detailOf(errors), errors);
    }
    const e = parsed.data;
    const out = await applyEvent({ ...svc, wake: svc.wakeRelay }, accountId, {
      type: e.type,
      ...(e.eventId !== undefined ? { eventId: e.eventId } : {}),
      ...(e.userId !== undefined ? { userId: e.userId } : {}),
      ...(e.stepId !== undefined ? { stepId: e.stepId } : {}),
      ...(e.data !== undefined ? { data: e.data } : {}),
    });
    if (out === "unknown_account") throw accountNotFound(accountId);
    return c.json(out, 202);
  },
};
