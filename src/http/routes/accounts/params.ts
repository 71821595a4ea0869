import { z } from "zod";
import { SUBJECT_ID_MESSAGE, SUBJECT_ID_PATTERN } from "../../../core/ids.js";
import { ApiError, detailOf, zodFieldErrors } from "../../errors.js";

const id = z.string().regex(SUBJECT_ID_PATTERN, SUBJECT_ID_MESSAGE);

export const accountParams = z.object({ accountId: id.meta({ example: "acme" }) });
export const instanceParams = z.object({ accountId: id, instanceId: id.meta({ example: "fi_k3j9" }) });

/** Path ids must match SUBJECT_ID_PATTERN (422 otherwise). */
export function parseParams<T>(schema: z.ZodType<T>, params: Record<string, string>): T {
  const r = schema.safeParse(params);
  if (r.success) return r.data;
  const errors = zodFieldErrors(r.error.issues, "path");
  throw new ApiError("validation_failed", detailOf(errors), errors);
}

/** 404 unless the account is known (its meta key exists). */
export function accountNotFound(accountId: string): ApiError {
  return new ApiError("not_found", `No account ${accountId}`);
}
