/**
 * The isolate's side of the limiter. A request that passed every check still needs a token from the key's
 * Durable Object. To keep that round trip off most requests of a busy key, the object may grant more tokens
 * than one, as a lease: the isolate spends them locally until they run out or the lease lapses (at most
 * LEASE_MS, never past a window's end, the key's expiry or its grace end). The object never grants more than
 * every limit has left, so limits are never exceeded; tokens left in a lapsed lease are lost, which can only
 * under-admit, by at most two grants (a lease and its refill) per isolate per LEASE_MS.
 *
 * Refill ahead: once a busy key's lease is half spent or half through its time, one request starts a call
 * for the next lease in the background (waitUntil) and goes on with its own token; the new grant lands in
 * isolate state beside the old one, so later requests find tokens instead of waiting out the object's round
 * trip. No request awaits another's I/O (workerd forbids it). A refill is a lease like any other: the object
 * counts it, and an admin change waits it out. Each grant keeps its own expiry, so tokens of one window are
 * never spent in the next.
 *
 * One call at a time per key: while a call for a key is out from this isolate, another request that finds
 * no token asks for its own token only, so a burst does not pile up full leases it cannot use.
 *
 * Once a key is refused for its limits, the isolate refuses it until the window resets without asking the
 * object again (the denial cache), so a flood from one key does not pile onto its object.
 *
 * Usage (`usage_count`, `last_used_at`) is not counted here: every admission is a `valid` decision, and
 * monitoring/usage.ts counts each decision once, for the rollups and the key row alike.
 */
import type { WaitUntil } from "../http/context";
import type { KeyRecord } from "../keys/key-record";
import { clock } from "../util/clock";
import { log } from "../util/log";
import { LEASE_MS, type AcquireResult, type KeyRefusal, type LimitRefusal } from "./key-object";
import { withTimeout } from "../util/timeout";
import type { LimitState } from "./window";

/** The most tokens an isolate asks for at once; the object caps it further by the key's limits. */
const MAX_LEASE_TOKENS = 1_000;
/** Leases and denials kept per isolate; the oldest are dropped first (a dropped lease only under-admits). */
const MAX_TRACKED_KEYS = 10_000;
/**
 * How long a request waits for the key's object before it is refused with 503. Longer than an object's
 * slowest honest answer (a D1 read while a change is pending), far shorter than a client's patience.
 */
export const KEY_OBJECT_TIMEOUT_MS = 3_000;

/** Tokens the object granted in one answer, usable until `expiresAt`. */
interface Grant {
  tokens: number;
  expiresAt: number;
}

interface Lease {
  version: number;
  /** Oldest first; spent in that order. At most two: the current grant and a refill. */
  grants: Grant[];
  /** The size of the latest grant, including the requester's own token. */
  granted: number;
  /** Tokens spent from this lease since `since` (when its first grant landed): the key's observed rate. */
  spent: number;
  since: number;
  /** The object's view right after the latest grant (its tokens already taken). */
  limits: LimitState[];
  /** A refill's answer refused the key for its limits: no refill before this time. */
  noRefillBefore: number;
}

interface Denial {
  version: number;
  code: LimitRefusal;
  until: number;
  limits: LimitState[];
}

const leases = new Map<string, Lease>();

const denials = new Map<string, Denial>();

/** keyId → calls to the key's object this isolate has out (requests' own and refills). */
const callsOut = new Map<string, number>();

export type Admission =
  | { ok: true; limits: LimitState[] }
  | { ok: false; code: LimitRefusal; retryAt: number; limits: LimitState[] }
  | { ok: false; code: KeyRefusal | "stale" };

export interface LimitStores {
  keyObjects: DurableObjectNamespace<import("./key-object").KeyObject>;
  /** Keeps a background refill alive after the request that started it has been answered. */
  waitUntil: WaitUntil;
}

type KeyRef = Pick<KeyRecord, "id" | "version" | "lineage_id">;

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  if (map.size >= MAX_TRACKED_KEYS) map.delete(map.keys().next().value!);
  map.set(key, value);
}

function heldTokens(lease: Lease, now: number): number {
  let held = 0;
  for (const grant of lease.grants) if (now < grant.expiresAt) held += grant.tokens;
  return held;
}

/** What a client may still do: the object's count plus what this isolate holds unspent. */
function withHeld(limits: LimitState[], held: number): LimitState[] {
  return limits.map((l) => ({ ...l, remaining: l.remaining + held }));
}

/** Spends one token from the oldest live grant of the key's lease, or returns null if there is none. */
function spendFromLease(record: KeyRef, now: number): Lease | null {
  const lease = leases.get(record.id);
  if (!lease || lease.version !== record.version) return null;
  lease.grants = lease.grants.filter((g) => now < g.expiresAt && g.tokens > 0);
  const grant = lease.grants[0];
  if (!grant) return null;
  grant.tokens--;
  lease.spent++;
  return lease;
}

/**
 * How many tokens a key needs for one lease at the rate this isolate has seen it used, with half a lease of
 * headroom; one for a key this isolate has not seen or has seen only once.
 */
function tokensWanted(lease: Lease | undefined, now: number): number {
  if (!lease) return 1;
  const elapsed = Math.max(now - lease.since, 1);
  const want = Math.ceil((lease.spent * LEASE_MS * 1.5) / elapsed);
  return Math.min(MAX_LEASE_TOKENS, Math.max(1, want));
}

/** A refill is due when what is held will not last: half the latest grant spent, or its time half gone. */
function refillDue(lease: Lease, now: number): boolean {
  if (now < lease.noRefillBefore || lease.granted < 2) return false;
  const last = lease.grants[lease.grants.length - 1];
  if (!last) return true;
  return heldTokens(lease, now) * 2 <= lease.granted || last.expiresAt - now <= LEASE_MS / 2;
}

/** The rate is what was spent over about the last LEASE_MS to 2 × LEASE_MS, not since the key was first seen. */
function forgetOldRate(lease: Lease, now: number): void {
  const elapsed = now - lease.since;
  if (elapsed <= 2 * LEASE_MS) return;
  lease.spent = Math.round((lease.spent * LEASE_MS) / elapsed);
  lease.since = now - LEASE_MS;
}

/**
 * Adds a grant to the key's lease (a new lease if the version moved on); `held` is what the isolate keeps of
 * it (a requester's own token is not held). An answer older than the lease's version is only kept if it
 * holds nothing, since its grants could only serve requests decided on the older record.
 */
function keepGrant(keyId: string, result: Extract<AcquireResult, { ok: true }>, held: number, now: number): Lease {
  const lease = leases.get(keyId);
  if (lease && lease.version >= result.version) {
    if (lease.version > result.version) return lease;
    lease.grants = lease.grants.filter((g) => now < g.expiresAt && g.tokens > 0);
    if (held > 0) lease.grants.push({ tokens: held, expiresAt: result.leaseExpiresAt });
    lease.granted = result.granted;
    lease.limits = result.limits;
    forgetOldRate(lease, now);
    return lease;
  }
  const fresh: Lease = {
    version: result.version,
    grants: held > 0 ? [{ tokens: held, expiresAt: result.leaseExpiresAt }] : [],
    granted: result.granted,
    spent: 0,
    since: now,
    limits: result.limits,
    noRefillBefore: 0,
  };
  remember(leases, keyId, fresh);
  return fresh;
}

async function callObject(stores: LimitStores, record: KeyRef, want: number, ahead: boolean): Promise<AcquireResult> {
  callsOut.set(record.id, (callsOut.get(record.id) ?? 0) + 1);
  try {
    const stub = stores.keyObjects.get(stores.keyObjects.idFromName(record.lineage_id));
    // A hung object is a failed one (503, fail closed); if it answers later, its tokens are never used.
    return await withTimeout<AcquireResult>(
      stub.acquire({ keyId: record.id, version: record.version, want, ahead }) as Promise<AcquireResult>,
      KEY_OBJECT_TIMEOUT_MS,
    );
  } finally {
    const left = (callsOut.get(record.id) ?? 1) - 1;
    if (left > 0) callsOut.set(record.id, left);
    else callsOut.delete(record.id);
  }
}

/** Asks the key's object for the next lease without holding up the request that noticed it was due. */
function refillAhead(stores: LimitStores, record: KeyRef, lease: Lease, now: number): void {
  const want = tokensWanted(lease, now);
  lease.noRefillBefore = Number.POSITIVE_INFINITY; // one refill at a time; reset when it lands
  const refill = callObject(stores, record, want, true).then(
    (result) => {
      const landed = clock.now();
      if (result.ok) keepGrant(record.id, result, result.granted, landed).noRefillBefore = 0;
      else if (result.code === "rate_limited" || result.code === "quota_exceeded") lease.noRefillBefore = result.retryAt;
      else leases.delete(record.id); // the key changed or was refused: let the next request ask for itself
    },
    (error: unknown) => {
      lease.noRefillBefore = 0;
      log("warn", "limits.refill_failed", { key_id: record.id, error: (error as Error).name });
    },
  );
  stores.waitUntil(refill);
}

/** Spends one token for the key: from this isolate's lease, or from the key's object. Throws if the object fails. */
export async function admit(stores: LimitStores, record: KeyRef, now: number): Promise<Admission> {
  const denial = denials.get(record.id);
  if (denial && denial.version === record.version && now < denial.until) {
    return { ok: false, code: denial.code, retryAt: denial.until, limits: denial.limits };
  }
  const local = spendFromLease(record, now);
  if (local) {
    if (refillDue(local, now) && !callsOut.has(record.id)) refillAhead(stores, record, local, now);
    return { ok: true, limits: withHeld(local.limits, heldTokens(local, now)) };
  }

  // Each request awaits only its own call. With another call for the key already out, ask for one token:
  // that call brings the lease.
  const previous = leases.get(record.id);
  const want = callsOut.has(record.id) ? 1 : tokensWanted(previous?.version === record.version ? previous : undefined, now);
  const result = await callObject(stores, record, want, false);
  const landed = clock.now();

  if (result.ok) {
    const lease = keepGrant(record.id, result, result.granted - 1, landed);
    if (lease.version === record.version) lease.spent++;
    return { ok: true, limits: withHeld(result.limits, heldTokens(lease, landed)) };
  }
  if (result.code === "rate_limited" || result.code === "quota_exceeded") {
    // A concurrent request may have brought back a lease while this one waited.
    const again = spendFromLease(record, landed);
    if (again) return { ok: true, limits: withHeld(again.limits, heldTokens(again, landed)) };
    remember(denials, record.id, {
      version: result.version,
      code: result.code,
      until: result.retryAt,
      limits: result.limits,
    });
    return { ok: false, code: result.code, retryAt: result.retryAt, limits: result.limits };
  }
  leases.delete(record.id);
  return { ok: false, code: result.code };
}

/** Drops this isolate's lease and denial for a key (after an admin change handled here). */
export function forgetLeases(keyId: string): void {
  leases.delete(keyId);
  denials.delete(keyId);
}
