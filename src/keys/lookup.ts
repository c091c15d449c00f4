/**
 * Finding a key's record by its hash: in-isolate cache → KV → D1, refilling the caches on the way back.
 * Unknown hashes go into a bounded in-isolate negative cache, so a flood of made-up keys reaches D1 at most
 * once per key per NEGATIVE_CACHE_TTL_MS in each isolate, and is never written to KV.
 */
import { BoundedTtlCache } from "../util/bounded-cache";
import { log } from "../util/log";
import { withTimeout } from "../util/timeout";
import { findKeyByHash } from "./store";
import { parseCachedRecord, toLiveKey, type KeyRecord, type LiveKey } from "./key-record";

/**
 * How long an isolate keeps its own copy of a key. Safe at this length because no copy admits a request on
 * its own: every admission is confirmed by the key's object, which refuses a request checked against an
 * older version than it holds (then the isolate re-reads D1), and expiry is checked against the clock. So
 * the copy's age only matters for refusals, which REFUSAL_RECHECK_MS bounds.
 */
export const ISOLATE_CACHE_TTL_MS = 30_000;
/**
 * A refusal decided on a copy older than this is checked again on a fresh read (KV, then D1) before it is
 * answered, so a change that loosens a key (enable, a wider allowlist, a new scope) is seen by every isolate
 * within this long plus KV's propagation, and a busy refused key costs one read per this interval.
 */
export const REFUSAL_RECHECK_MS = 5_000;
export const ISOLATE_CACHE_MAX_ENTRIES = 10_000;

/**
 * How long a KV copy lives. Revocation deletes it at once, but Workers KV is eventually consistent: other
 * locations can go on reading the old value for up to about 60 s after the delete.
 */
export const KV_METADATA_TTL_S = 300;

/**
 * How long an isolate remembers that a hash is unknown. Safe at any length: a key's hash only becomes known
 * by minting the key, and a freshly minted 256-bit key cannot have been presented before.
 */
export const NEGATIVE_CACHE_TTL_MS = 60_000;
export const NEGATIVE_CACHE_MAX_ENTRIES = 50_000;

/**
 * How long a KV read may take before the lookup gives up on it and asks D1. A hung KV read must not hang the
 * request: a slow cache is treated like a miss, so D1 (the source of truth) decides.
 */
export const KV_READ_TIMEOUT_MS = 1_000;

const KV_PREFIX = "key:v1:";

/** The KV entry that caches a key's metadata. */
export const kvKeyFor = (keyHash: string) => `${KV_PREFIX}${keyHash}`;

/**
 * The hints (last four characters; not secret) of every key the two caches below hold, each with how many
 * entries carry it. A client over the refusal throttle presenting a key whose hint is not here is refused
 * without even hashing the key: a made-up key's hint is one of the 60,000 at most here about once in 250
 * tries, and is then hashed and looked up in the caches as usual.
 */
const cachedHints = new Map<string, number>();
const addHint = (hint: string) => cachedHints.set(hint, (cachedHints.get(hint) ?? 0) + 1);
function dropHint(hint: string): void {
  const n = cachedHints.get(hint) ?? 0;
  if (n <= 1) cachedHints.delete(hint);
  else cachedHints.set(hint, n - 1);
}

const isolateCache = new BoundedTtlCache<string, LiveKey>({
  maxEntries: ISOLATE_CACHE_MAX_ENTRIES,
  ttlMs: ISOLATE_CACHE_TTL_MS,
  onRemove: (live) => dropHint(live.record.hint),
});
/** Unknown hashes, each with the hint of the key presented. */
const negativeCache = new BoundedTtlCache<string, string>({
  maxEntries: NEGATIVE_CACHE_MAX_ENTRIES,
  ttlMs: NEGATIVE_CACHE_TTL_MS,
  onRemove: dropHint,
});

function cacheKey(keyHash: string, live: LiveKey, now: number): void {
  isolateCache.set(keyHash, live, now);
  addHint(live.record.hint);
}

export interface KeyStores {
  db: D1Database;
  kv: KVNamespace;
  /** Cache refills run after the response, off the request's critical path. */
  waitUntil(promise: Promise<unknown>): void;
}

/** A presented key as the lookup handles it: its SHA-256, and its hint for the negative cache. */
export interface PresentedKey {
  hash: string;
  hint: string;
}

/**
 * False if this isolate certainly holds nothing for a key with this hint (neither a copy nor a memory of
 * it being unknown), decided without hashing the key; true if it may.
 */
export function mayBeCached(hint: string): boolean {
  return cachedHints.has(hint);
}

/**
 * What this isolate already knows of a hash, without any storage read: its cached copy of the key, null if
 * the hash is remembered as unknown, or undefined if only KV or D1 can tell (then call `loadKey`).
 */
export function knownKey(keyHash: string, now: number): LiveKey | null | undefined {
  const cached = isolateCache.get(keyHash, now);
  if (cached) return cached;
  if (negativeCache.get(keyHash, now) !== undefined) return null;
  return undefined;
}

/**
 * The key read past the isolate cache (KV, then D1): on a miss, or to confirm a refusal made on an old copy.
 * Not shared between concurrent requests: workerd forbids one request awaiting another's I/O. Throws only if
 * D1 itself fails.
 */
export async function loadKey(stores: KeyStores, key: PresentedKey, now: number): Promise<LiveKey | null> {
  let record: KeyRecord | null = null;
  try {
    record = parseCachedRecord(await withTimeout(stores.kv.get(kvKeyFor(key.hash)), KV_READ_TIMEOUT_MS));
  } catch {
    log("warn", "key_cache.read_failed", { degraded: "kv_unavailable" });
  }
  if (!record) return reloadKey(stores, key, now);
  const live = toLiveKey(record, now);
  cacheKey(key.hash, live, now);
  return live;
}

/**
 * Reads the key from D1, the source of truth, and refills both caches with it. Used on a cache miss, and
 * when the key's object says the cached copy is older than its state: the fresh copy then also overwrites a
 * stale KV entry (e.g. one refilled by a read that started before a revocation).
 */
export async function reloadKey(stores: KeyStores, key: PresentedKey, now: number): Promise<LiveKey | null> {
  const record = await findKeyByHash(stores.db, key.hash);
  if (!record) {
    isolateCache.delete(key.hash);
    negativeCache.set(key.hash, key.hint, now);
    addHint(key.hint);
    return null;
  }
  stores.waitUntil(
    stores.kv.put(kvKeyFor(key.hash), JSON.stringify(record), { expirationTtl: KV_METADATA_TTL_S }).catch(() => {
      log("warn", "key_cache.write_failed", { degraded: "kv_unavailable" });
    }),
  );
  const live = toLiveKey(record, now);
  cacheKey(key.hash, live, now);
  return live;
}

/** Drops a key from this isolate's caches and from KV, e.g. after a revocation was written to D1. */
export async function purgeKey(kv: KVNamespace, keyHash: string): Promise<void> {
  isolateCache.delete(keyHash);
  negativeCache.delete(keyHash);
  await kv.delete(kvKeyFor(keyHash));
}

/** Empties this isolate's caches (tests use it to observe the KV and D1 layers underneath). */
export function clearIsolateCaches(): void {
  isolateCache.clear();
  negativeCache.clear();
}
