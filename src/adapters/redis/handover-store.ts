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
  // The dedupe record lives in the account's slot, so that storing is one atomic script; the
  // global owner record catches the same delivery id sent again for another account. An owner
  // whose record is gone (erased, expired) no longer counts.
  const ownerKey = svc.keys.global.webhookOwner(deliveryId);
  const owner = await svc.redis.get(ownerKey);
  if (owner !== null && owner !== a) {
    const original = await svc.redis.get(k.webhookSeen(owner, deliveryId));
    if (original !== null) return { handoverId: original, accountId: owner, duplicate: true };
  }
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
  if (owner !== a) await svc.redis.set(ownerKey, a, "EX", DEDUPE_TTL_SECONDS);
  if (extra === "redecide") {
    svc.redis.lpush(svc.keys.global.ready, a).catch(() => {});
    svc.wakeRelay(a);
  }
  return { handoverId, accountId: a, duplicate: false };
}

const FORGET_OWNERS = `
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then n = n + redis.call('UNLINK', key) end
end
return n
`;

/** Drops the global owner records an erased account still holds (those another account took stay). */
export async function forgetWebhookOwners(
  svc: Pick<RouterServices, "redis" | "keys">,
  accountId: string,
  deliveryIds: readonly string[],
): Promise<number> {
  if (deliveryIds.length === 0) return 0;
  const keys = deliveryIds.map((id) => svc.keys.global.webhookOwner(id));
  return (await svc.redis.eval(FORGET_OWNERS, keys.length, ...keys, accountId)) as number;
}
