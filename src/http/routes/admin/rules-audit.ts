import type { Context } from "hono";
import type { AppEnv } from "../../context.js";
import type { RouterServices } from "../../services.js";
import { actorOf, storeOf } from "./rules-shared.js";

/** Appends one admin audit entry `{ at, actor, action, version?, summary }`. */
export async function recordAudit(
  c: Context<AppEnv<RouterServices>>,
  svc: RouterServices,
  action: string,
  summary: string,
  version?: number,
): Promise<void> {
  await storeOf(svc).audit({
    at: svc.clock.now().toISOString(),
    actor: actorOf(c),
    action,
    ...(version === undefined ? {} : { version }),
    summary,
  });
}
