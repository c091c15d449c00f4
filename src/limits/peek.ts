/**
 * Looking at a key's limits without spending them: the key check (POST /admin/v1/keys/check) and the admin
 * limits views ask the key's and the consumer's objects to `peek`, which takes no token, grants no lease and
 * moves no lease horizon. Remaining is what the object counts plus what this isolate holds unspent (what a
 * request here would spend first); tokens leased to other isolates, at most a lease's worth (LEASE_MS) each,
 * count as spent, as they do in the RateLimit headers.
 */
import type { ConsumerPeekResult } from "../consumers/consumer-object";
import { withTimeout } from "../util/timeout";
import type { PeekResult } from "./key-object";
import {
  asConsumers,
  heldLeaseTokens,
  KEY_OBJECT_TIMEOUT_MS,
  withHeld,
  type Admission,
  type AdmissionLimit,
  type KeyRef,
  type LimitStores,
} from "./leases";
import { blockedBy, type LimitRefusal, type LimitState } from "./window";

type PeekStores = Pick<LimitStores, "keyObjects" | "consumerObjects">;

function peekConsumer(stores: PeekStores, consumerId: string, keyCreatedAt?: number) {
  const stub = stores.consumerObjects.get(stores.consumerObjects.idFromName(consumerId));
  return withTimeout(stub.peek({ consumerId, keyCreatedAt }) as Promise<ConsumerPeekResult>, KEY_OBJECT_TIMEOUT_MS);
}

/** Both objects' answers at once, each with this isolate's unspent tokens added. Throws if an object fails. */
async function peekBoth(stores: PeekStores, record: KeyRef, version: number | undefined, now: number) {
  const keyStub = stores.keyObjects.get(stores.keyObjects.idFromName(record.lineage_id));
  const [key, consumer] = await Promise.all([
    withTimeout(keyStub.peek({ keyId: record.id, version }) as Promise<PeekResult>, KEY_OBJECT_TIMEOUT_MS),
    peekConsumer(stores, record.owner_id, record.created_at),
  ]);
  const held = heldLeaseTokens(record, record.owner_id, now);
  return {
    key: { ...key, limits: withHeld(key.limits, held.key) },
    consumer: { ...consumer, limits: withHeld(consumer.limits, held.consumer) },
  };
}

/**
 * What `admit` would answer for a request of this cost, nothing spent: the key's state, then the consumer's,
 * then the limits of both (the same order and the same rule, `blockedBy`, as admitting). Throws if an
 * object fails.
 */
export async function peekAdmission(stores: PeekStores, record: KeyRef, now: number, cost: number): Promise<Admission> {
  const { key, consumer } = await peekBoth(stores, record, record.version, now);
  if (key.refusal) return { ok: false, code: key.refusal };
  if (consumer.refusal) return { ok: false, code: consumer.refusal };
  const limits: AdmissionLimit[] = [...key.limits, ...asConsumers(consumer.limits)];
  const blocked = [blockedBy(key.limits, cost), blockedBy(consumer.limits, cost)].flatMap((b) => (b ? [b] : []));
  if (blocked.length === 0) return { ok: true, limits };
  const code: LimitRefusal = blocked.some((b) => b.code === "quota_exceeded") ? "quota_exceeded" : "rate_limited";
  const retryAt = blocked.some((b) => b.retryAt === null) ? null : Math.max(...blocked.map((b) => b.retryAt!));
  return { ok: false, code, retryAt, limits };
}

/** A key's limits as they stand, then its consumer's, whatever the key's state (the admin view). */
export async function keyLimitsNow(stores: PeekStores, record: KeyRef, now: number): Promise<AdmissionLimit[]> {
  const { key, consumer } = await peekBoth(stores, record, undefined, now);
  return [...key.limits, ...asConsumers(consumer.limits)];
}

/** A consumer's shared limits as they stand (the admin view). */
export async function consumerLimitsNow(stores: PeekStores, consumerId: string, now: number): Promise<LimitState[]> {
  const consumer = await peekConsumer(stores, consumerId);
  return withHeld(consumer.limits, heldLeaseTokens(null, consumerId, now).consumer);
}
