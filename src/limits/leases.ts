/**
 * The isolate's side of the limiter: admitting one request of a key that passed every other check. It
 * needs its cost in tokens from the key's Durable Object (the key's limits and live state) and from its
 * consumer's (the limits shared by all the consumer's keys, its status, revoke-keys), each through this
 * isolate's leases (./lease-book.ts) or, when a lease has too few, a call to that object. Both calls run at
 * once, so a request that needs both waits one round trip, not two.
 *
 * All or nothing: a request is admitted only if both sides grant its cost. When one side refuses, what the
 * other gave for this request goes back: tokens spent from a lease are returned to it, tokens an object
 * granted for it are refunded to that object before the refusal is answered. So a refused request spends
 * nothing anywhere, and the RateLimit numbers of both sides stay true.
 *
 * Usage (`usage_count`, `last_used_at`) is not counted here: every admission is a `valid` decision, and
 * monitoring/usage.ts counts each decision once, for the rollups and the key row alike.
 */
import type { WaitUntil } from "../http/context";
import type { KeyRecord } from "../keys/key-record";
import type { ConsumerObject, ConsumerRefusal } from "../consumers/consumer-object";
import { clock } from "../util/clock";
import { log } from "../util/log";
import { withTimeout } from "../util/timeout";
import type { KeyObject, KeyRefusal } from "./key-object";
import { heldTokens, LeaseBook, type Answer, type AskObject, type Lease } from "./lease-book";
import type { LimitRefusal, LimitState } from "./window";

/**
 * How long a request waits for an object before it is refused with 503. Longer than an object's slowest
 * honest answer (a D1 read while a change is pending), far shorter than a client's patience.
 */
export const KEY_OBJECT_TIMEOUT_MS = 3_000;

const keyLeases = new LeaseBook(true);
const consumerLeases = new LeaseBook(false);

/** A limit's state, marked when it is the consumer's (shared by its keys) rather than the key's own. */
export type AdmissionLimit = LimitState & { subject?: "consumer" };

export type Admission =
  | { ok: true; limits: AdmissionLimit[] }
  | { ok: false; code: LimitRefusal; retryAt: number | null; limits: AdmissionLimit[] }
  | { ok: false; code: KeyRefusal | ConsumerRefusal | "stale" };

export interface LimitStores {
  keyObjects: DurableObjectNamespace<KeyObject>;
  consumerObjects: DurableObjectNamespace<ConsumerObject>;
  /** Keeps a background refill alive after the request that started it has been answered. */
  waitUntil: WaitUntil;
}

export type KeyRef = Pick<KeyRecord, "id" | "version" | "lineage_id" | "owner_id" | "created_at">;

/** What one side (the key's or the consumer's) did for this request. */
interface Side {
  book: LeaseBook;
  id: string;
  version: number;
  ask: AskObject;
  /** Tokens spent from this isolate's lease, or granted by the object for this request, or a refusal. */
  outcome:
    | { lease: Lease }
    | { answer: Extract<Answer, { ok: true }>; at: number }
    | { refused: Exclude<Answer, { ok: true }> };
}

export const asConsumers = (limits: LimitState[]): AdmissionLimit[] =>
  limits.map((l) => ({ ...l, subject: "consumer" }));

function limitsOf(side: Side, now: number): LimitState[] {
  const { outcome } = side;
  if ("lease" in outcome) return withHeld(outcome.lease.limits, heldTokens(outcome.lease, now));
  if ("answer" in outcome) {
    const lease = side.book.current(side.id, side.version);
    return withHeld(outcome.answer.limits, lease ? heldTokens(lease, now) : 0);
  }
  return "limits" in outcome.refused ? outcome.refused.limits : [];
}

/** The key's limits then the consumer's, each with what this isolate holds unspent. */
function joined(
  keyLimits: LimitState[],
  keyLease: Lease,
  consumerLimits: LimitState[],
  consumerLease: Lease,
  now: number,
) {
  const own = withHeld(keyLimits, heldTokens(keyLease, now));
  if (consumerLimits.length === 0) return own;
  return [...own, ...asConsumers(withHeld(consumerLimits, heldTokens(consumerLease, now)))];
}

/** What a client may still do: the object's count plus what this isolate holds unspent. */
export function withHeld(limits: LimitState[], held: number): LimitState[] {
  return held === 0 ? limits : limits.map((l) => ({ ...l, remaining: l.remaining + held }));
}

function askKey(stores: LimitStores, record: KeyRef): AskObject {
  return (want, cost, ahead) => {
    const stub = stores.keyObjects.get(stores.keyObjects.idFromName(record.lineage_id));
    // A hung object is a failed one (503, fail closed); if it answers later, its tokens are never used.
    return withTimeout(
      stub.acquire({ keyId: record.id, version: record.version, want, cost, ahead }) as Promise<Answer>,
      KEY_OBJECT_TIMEOUT_MS,
    );
  };
}

function askConsumer(stores: LimitStores, record: KeyRef): AskObject {
  return (want, cost, ahead) => {
    const stub = stores.consumerObjects.get(stores.consumerObjects.idFromName(record.owner_id));
    return withTimeout(
      stub.acquire({
        consumerId: record.owner_id,
        keyCreatedAt: record.created_at,
        want,
        cost,
        ahead,
      }) as Promise<Answer>,
      KEY_OBJECT_TIMEOUT_MS,
    );
  };
}

/** Tokens from the lease if it holds the cost, else from the object (the call the caller awaits). */
async function obtain(side: Omit<Side, "outcome">, cost: number, now: number): Promise<Side["outcome"]> {
  const lease = side.book.spend(side.id, side.version, cost, now);
  if (lease) return { lease };
  const answer = await side.book.call(
    side.id,
    side.ask,
    side.book.wanted(side.id, side.version, cost, now),
    cost,
    false,
  );
  if (answer.ok) return { answer, at: clock.now() };
  if ("retryAt" in answer) {
    // A concurrent request may have brought back a lease while this one waited.
    const again = side.book.spend(side.id, side.version, cost, clock.now());
    if (again) return { lease: again };
  }
  return { refused: answer };
}

/** Undoes what a side did for a request that the other side refused. */
async function giveBack(side: Side, stores: LimitStores, record: KeyRef, cost: number, now: number): Promise<void> {
  const { outcome } = side;
  if ("lease" in outcome) side.book.unspend(outcome.lease, cost, now);
  else if ("answer" in outcome) {
    side.book.keep(side.id, outcome.answer, outcome.answer.granted - cost, 0, outcome.at);
    try {
      if (side.book === keyLeases) {
        const stub = stores.keyObjects.get(stores.keyObjects.idFromName(record.lineage_id));
        await stub.refund(record.id, cost, outcome.at);
      } else {
        const stub = stores.consumerObjects.get(stores.consumerObjects.idFromName(record.owner_id));
        await stub.refund(cost, outcome.at);
      }
    } catch (error) {
      // The tokens stay spent: that can only under-admit, by this request's cost.
      log("warn", "limits.refund_failed", { key_id: record.id, error: (error as Error).name });
    }
  }
}

/**
 * Spends `cost` tokens for the key from its limits and its consumer's, all or nothing. Throws if an object
 * fails (after giving back what the other side granted, where it can).
 */
export async function admit(stores: LimitStores, record: KeyRef, now: number, cost = 1): Promise<Admission> {
  const keyDenial = keyLeases.denied(record.id, record.version, cost, now);
  if (keyDenial) return { ok: false, code: keyDenial.code, retryAt: keyDenial.until, limits: keyDenial.limits };
  const consumerDenial = consumerLeases.denied(record.owner_id, 0, cost, now);
  if (consumerDenial) {
    return {
      ok: false,
      code: consumerDenial.code,
      retryAt: consumerDenial.until,
      limits: asConsumers(consumerDenial.limits),
    };
  }

  // The common case, decided without a promise or a closure: both leases hold the cost.
  const keyLease = keyLeases.spend(record.id, record.version, cost, now);
  if (keyLease) {
    const consumerLease = consumerLeases.spend(record.owner_id, 0, cost, now);
    if (consumerLease) {
      const before = consumerLease.keysRevokedBefore;
      if (before !== null && record.created_at <= before) {
        keyLeases.unspend(keyLease, cost, now);
        consumerLeases.unspend(consumerLease, cost, now);
        return { ok: false, code: "key_revoked" };
      }
      keyLeases.refillIfDue(record.id, keyLease, () => askKey(stores, record), stores.waitUntil, now);
      consumerLeases.refillIfDue(
        record.owner_id,
        consumerLease,
        () => askConsumer(stores, record),
        stores.waitUntil,
        now,
      );
      return { ok: true, limits: joined(keyLease.limits, keyLease, consumerLease.limits, consumerLease, now) };
    }
    keyLeases.unspend(keyLease, cost, now);
  }

  const sides = [
    { book: keyLeases, id: record.id, version: record.version, ask: askKey(stores, record) },
    { book: consumerLeases, id: record.owner_id, version: 0, ask: askConsumer(stores, record) },
  ] as const;
  const settled = await Promise.allSettled(sides.map((s) => obtain(s, cost, now)));
  const done = settled.map((r, i): Side | null =>
    r.status === "fulfilled" ? { ...sides[i]!, outcome: r.value } : null,
  ) as [Side | null, Side | null];
  const [key, consumer] = done;
  const landed = clock.now();

  const refusal = admissionRefusal(key, consumer, record, cost, landed);
  if (refusal !== null || !key || !consumer) {
    await Promise.all(
      done.map((s) => (s && !("refused" in s.outcome) ? giveBack(s, stores, record, cost, landed) : null)),
    );
    const failed = settled.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    return refusal!;
  }

  for (const side of done as Side[]) {
    if ("answer" in side.outcome)
      side.book.keep(side.id, side.outcome.answer, side.outcome.answer.granted - cost, cost, landed);
    else if ("lease" in side.outcome)
      side.book.refillIfDue(side.id, side.outcome.lease, () => side.ask, stores.waitUntil, landed);
  }
  const consumerLimits = limitsOf(consumer, landed);
  const keyLimits = limitsOf(key, landed);
  return { ok: true, limits: consumerLimits.length === 0 ? keyLimits : [...keyLimits, ...asConsumers(consumerLimits)] };
}

/**
 * The refusal, if either side refused (or a consumer lease says the key was revoked with all the consumer's
 * keys): the key's own state first, then the consumer's, then the limits. Denials are remembered here.
 */
function admissionRefusal(
  key: Side | null,
  consumer: Side | null,
  record: KeyRef,
  cost: number,
  now: number,
): Admission | null {
  if (consumer && "lease" in consumer.outcome) {
    const before = consumer.outcome.lease.keysRevokedBefore;
    if (before !== null && record.created_at <= before) return { ok: false, code: "key_revoked" };
  }
  const refusals = [key, consumer].flatMap((s) =>
    s && "refused" in s.outcome ? [{ side: s, answer: s.outcome.refused }] : [],
  );
  if (refusals.length === 0) return null;
  const state = refusals.find((r) => !("retryAt" in r.answer));
  if (state) {
    if (state.side.book === keyLeases) keyLeases.forget(record.id);
    return { ok: false, code: state.answer.code as KeyRefusal | ConsumerRefusal | "stale" };
  }
  // Both refused for limits, or one did: the request can run again when every blocking limit has room.
  let retryAt: number | null = 0;
  const limits: AdmissionLimit[] = [];
  let code: LimitRefusal = "rate_limited";
  for (const { side, answer } of refusals) {
    const limited = answer as Extract<Answer, { code: LimitRefusal }>;
    side.book.deny(side.id, limited, cost);
    retryAt = retryAt === null || limited.retryAt === null ? null : Math.max(retryAt, limited.retryAt);
    if (limited.code === "quota_exceeded") code = "quota_exceeded";
  }
  for (const side of [key, consumer]) {
    if (!side) continue;
    const own = limitsOf(side, now);
    limits.push(...(side.book === consumerLeases ? asConsumers(own) : own));
  }
  return { ok: false, code, retryAt, limits };
}

/**
 * The tokens this isolate holds unspent for a key (at this version) and for a consumer: what a request here
 * would spend before asking either object (read only; src/limits/peek.ts adds them to the objects' counts).
 */
export function heldLeaseTokens(
  key: { id: string; version: number } | null,
  consumerId: string,
  now: number,
): { key: number; consumer: number } {
  const keyLease = key ? keyLeases.current(key.id, key.version) : null;
  const consumerLease = consumerLeases.current(consumerId, 0);
  return {
    key: keyLease ? heldTokens(keyLease, now) : 0,
    consumer: consumerLease ? heldTokens(consumerLease, now) : 0,
  };
}

/** Drops this isolate's lease and denial for a key (after an admin change handled here). */
export function forgetLeases(keyId: string): void {
  keyLeases.forget(keyId);
}

/** Drops this isolate's lease and denial for a consumer (after a change to it handled here). */
export function forgetConsumerLeases(consumerId: string): void {
  consumerLeases.forget(consumerId);
}
