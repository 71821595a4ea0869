import type { CanonicalHandover } from "../../core/handover/schema.js";
import { newId } from "../../core/ids.js";
import type { RouterServices } from "../../http/services.js";
import { routeCommands } from "./route-scripts.js";

/** Webhook ids are remembered this long (CONTRACT: at least 72 hours). */
export const DEDUPE_TTL_SECONDS = 72 * 3600;
/** Handovers kept per account for audit. */
export const HANDOVERS_KEPT = 50;

export interface StoredHandoverResult {
  readonly handoverId: string;
  readonly accountId: string;
  readonly duplicate: boolean;
}

/**
 * Stores a canonical handover once per delivery id. Marking the id and storing happen in one
 * script; when the account already has instances, a re-decision intent joins the outbox.
 */
export async function storeHandover(
  svc: RouterServices,
  handover: CanonicalHandover,
  deliveryId: string,
  source: string,
): Promise<StoredHandoverResult> {
  const a = handover.accountId;
  const k = svc.keys.account;
  const now = svc.clock.now();
  const handoverId = newId("ho", 16);
  const stored = JSON.stringify({ ...handover, handoverId, receivedAt: now.toISOString(), source });
  const intent = JSON.stringify({
    id: `redecide-${handoverId}`,
    kind: "account.redecide",
    accountId: a,
    handoverId,
    runAt: 0,
  });
  const [status, extra] = await routeCommands(svc.redis).handoverStore(
    k.webhookSeen(a, deliveryId),
    k.handover(a),
    k.handovers(a),
    k.meta(a),
    k.subjects(a),
    k.outbox(a),
    k.seen(a),
    handoverId,
    stored,
    DEDUPE_TTL_SECONDS,
    now.getTime(),
    intent,
    HANDOVERS_KEPT,
  );
  if (status === "duplicate") return { handoverId: extra, accountId: a, duplicate: true };
  if (extra === "redecide") {
    svc.redis.lpush(svc.keys.global.ready, a).catch(() => {});
    svc.wakeRelay(a);
  }
  return { handoverId, accountId: a, duplicate: false };
}
