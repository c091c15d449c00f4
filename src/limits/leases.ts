/**
 * The isolate's side of the limiter. A request that passed every check still needs a token from the key's
 * Durable Object. To keep that round trip off most requests of a busy key, the object may grant more tokens
 * than one, as a lease: the isolate spends them locally until they run out or the lease lapses (at most
 * LEASE_MS, never past a window's end, the key's expiry or its grace end). The object never grants more than
 * every limit has left, so limits are never exceeded; tokens left in a lapsed lease are lost, which can only
 * under-admit, by at most one lease per isolate per LEASE_MS.
 *
 * Once a key is refused for its limits, the isolate refuses it until the window resets without asking the
 * object again (the denial cache), so a flood from one key does not pile onto its object.
 *
 * Usage (`usage_count`, `last_used_at`) is counted here for every admission, from a lease or from the
 * object, and written to D1 for all keys at once, at most once per USAGE_FLUSH_MS per isolate. These are
 * statistics, not limits (the object's counters are never deferred): an isolate that dies loses at most
 * the admissions it counted in its last USAGE_FLUSH_MS.
 */
import type { KeyRecord } from "../keys/record";
import { addUsage } from "../keys/store";
import { clock } from "../util/clock";
import type { AcquireResult, KeyRefusal, LimitRefusal } from "./key-object";
import { log } from "../util/log";
import { withTimeout } from "../util/timeout";
import type { LimitState } from "./window";

/** The most tokens an isolate asks for at once; the object caps it further by the key's limits. */
export const MAX_LEASE_TOKENS = 1_000;
/** Leases and denials kept per isolate; the oldest are dropped first (a dropped lease only under-admits). */
export const MAX_TRACKED_KEYS = 10_000;
/**
 * How long a request waits for the key's object before it is refused with 503. Longer than an object's
 * slowest honest answer (a D1 read while a change is pending), far shorter than a client's patience.
 */
export const KEY_OBJECT_TIMEOUT_MS = 3_000;
/** How often an isolate writes the usage it counted to D1. */
export const USAGE_FLUSH_MS = 10_000;

interface Lease {
  version: number;
  tokens: number;
  granted: number;
  expiresAt: number;
  /** The object's view right after the grant (the lease's own tokens already taken). */
  limits: LimitState[];
}

interface Denial {
  version: number;
  code: LimitRefusal;
  until: number;
  limits: LimitState[];
}

const leases = new Map<string, Lease>();

const denials = new Map<string, Denial>();
const usage = new Map<string, { count: number; lastUsedAt: number }>();
let lastUsageFlush = 0;

export type Admission =
  | { ok: true; limits: LimitState[] }
  | { ok: false; code: LimitRefusal; retryAt: number; limits: LimitState[] }
  | { ok: false; code: KeyRefusal | "stale" };

export interface LimitStores {
  keyObjects: DurableObjectNamespace<import("./key-object").KeyObject>;
  db: D1Database;
  waitUntil(promise: Promise<unknown>): void;
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  if (map.size >= MAX_TRACKED_KEYS) map.delete(map.keys().next().value!);
  map.set(key, value);
}

/** What a client may still do: the object's count plus what this isolate holds unspent. */
function withHeld(limits: LimitState[], held: number): LimitState[] {
  return limits.map((l) => ({ ...l, remaining: l.remaining + held }));
}

function spendFromLease(record: Pick<KeyRecord, "id" | "version">, now: number): Admission | null {
  const lease = leases.get(record.id);
  if (!lease || lease.version !== record.version || now >= lease.expiresAt || lease.tokens === 0) return null;
  lease.tokens--;
  return { ok: true, limits: withHeld(lease.limits, lease.tokens) };
}

function countUsage(keyId: string, now: number): void {
  const u = usage.get(keyId);
  if (u) {
    u.count++;
    u.lastUsedAt = now;
  } else {
    usage.set(keyId, { count: 1, lastUsedAt: now });
  }
}

/**
 * How many tokens to ask for: double the last lease if it ran dry before lapsing (a busy key), else what was
 * used of it; one for a key this isolate has not seen.
 */
function tokensWanted(lease: Lease | undefined, now: number): number {
  if (!lease) return 1;
  const used = lease.granted - lease.tokens;
  const want = lease.tokens === 0 && now < lease.expiresAt ? lease.granted * 2 : used;
  return Math.min(MAX_LEASE_TOKENS, Math.max(1, want));
}

/** Spends one token for the key: from this isolate's lease, or from the key's object. Throws if the object fails. */
export async function admit(
  stores: LimitStores,
  record: Pick<KeyRecord, "id" | "version" | "lineage_id">,
  now: number,
): Promise<Admission> {
  const denial = denials.get(record.id);
  if (denial && denial.version === record.version && now < denial.until) {
    return { ok: false, code: denial.code, retryAt: denial.until, limits: denial.limits };
  }
  const local = spendFromLease(record, now);
  if (local) {
    countUsage(record.id, now);
    flushUsage(stores, now);
    return local;
  }
  const stub = stores.keyObjects.get(stores.keyObjects.idFromName(record.lineage_id));
  const previous = leases.get(record.id);
  // Each request awaits only its own call: workerd forbids sharing one request's I/O with another.
  // A hung object is a failed one (503, fail closed); if it answers later, its tokens are never used.
  const result = await withTimeout<AcquireResult>(
    stub.acquire({ keyId: record.id, version: record.version, want: tokensWanted(previous, now) }) as Promise<AcquireResult>,
    KEY_OBJECT_TIMEOUT_MS,
  );

  if (result.ok) {
    // Tokens still held from a concurrent grant of the same version are kept, under the earlier expiry of the two.
    const held = leases.get(record.id);
    const keep = held && held.version === result.version && clock.now() < held.expiresAt ? held.tokens : 0;
    const tokens = keep + result.granted - 1;
    remember(leases, record.id, {
      version: result.version,
      tokens,
      granted: tokens + 1,
      expiresAt: keep > 0 ? Math.min(held!.expiresAt, result.leaseExpiresAt) : result.leaseExpiresAt,
      limits: result.limits,
    });
    countUsage(record.id, now);
    flushUsage(stores, now);
    return { ok: true, limits: withHeld(result.limits, tokens) };
  }
  if (result.code === "rate_limited" || result.code === "quota_exceeded") {
    // A concurrent request may have brought back a lease while this one waited.
    const again = spendFromLease(record, clock.now());
    if (again) {
      countUsage(record.id, now);
      return again;
    }
    remember(denials, record.id, { version: result.version, code: result.code, until: result.retryAt, limits: result.limits });
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

/** Writes the usage this isolate counted to D1, in the background: at most once per USAGE_FLUSH_MS. */
function flushUsage(stores: LimitStores, now: number): void {
  if (lastUsageFlush === 0) lastUsageFlush = now; // the first interval starts with the isolate's first admission
  if (now - lastUsageFlush < USAGE_FLUSH_MS || usage.size === 0) return;
  stores.waitUntil(flushUsageNow(stores.db));
}

/** Writes the usage counted so far to D1 now (tests, and the periodic flush). Never throws. */
export async function flushUsageNow(db: D1Database): Promise<void> {
  lastUsageFlush = clock.now();
  const pending = [...usage.entries()];
  usage.clear();
  try {
    await addUsage(db, pending);
  } catch {
    log("warn", "usage.flush_failed", { degraded: "usage_lost" }); // those counts are lost
  }
}
