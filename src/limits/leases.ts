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
 * Usage (`usage_count`, `last_used_at`) is not counted here: every admission is a `valid` decision, and
 * monitoring/usage.ts counts each decision once, for the rollups and the key row alike.
 */
import type { KeyRecord } from "../keys/key-record";
import { clock } from "../util/clock";
import type { AcquireResult, KeyRefusal, LimitRefusal } from "./key-object";
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

export type Admission =
  | { ok: true; limits: LimitState[] }
  | { ok: false; code: LimitRefusal; retryAt: number; limits: LimitState[] }
  | { ok: false; code: KeyRefusal | "stale" };

export interface LimitStores {
  keyObjects: DurableObjectNamespace<import("./key-object").KeyObject>;
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
  if (local) return local;
  const stub = stores.keyObjects.get(stores.keyObjects.idFromName(record.lineage_id));
  const previous = leases.get(record.id);
  // Each request awaits only its own call: workerd forbids sharing one request's I/O with another.
  // A hung object is a failed one (503, fail closed); if it answers later, its tokens are never used.
  const result = await withTimeout<AcquireResult>(
    stub.acquire({
      keyId: record.id,
      version: record.version,
      want: tokensWanted(previous, now),
    }) as Promise<AcquireResult>,
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
    return { ok: true, limits: withHeld(result.limits, tokens) };
  }
  if (result.code === "rate_limited" || result.code === "quota_exceeded") {
    // A concurrent request may have brought back a lease while this one waited.
    const again = spendFromLease(record, clock.now());
    if (again) return again;
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
