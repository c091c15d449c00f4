/**
 * The per-isolate usage aggregator, the one place decisions are counted. Every final decision is counted
 * here, in memory, through ./decision-sink.ts (the sink the gateway and the RPC entrypoint hand to verifyKey,
 * and use themselves for a missing key): the cost per request is a map increment and, for an admission, a set
 * insert of where the request came from and the key's latest use. The counts leave the isolate in batches
 * (./flush.ts), started in `waitUntil` by the first decision after USAGE_ROLLUP_FLUSH_MS, or at once when
 * the batch reaches its size bound. One batch feeds the rollups per key and per consumer (the key's owner,
 * attributed when the batch is written) and the key rows' `usage_count` and `last_used_at` (an admission is a
 * `valid` decision), so all of them are as fresh as the last flush.
 *
 * What a crash can lose: counts are in memory until their flush, so an isolate that dies (or is evicted
 * without a further request) loses what it counted since its last flush — at most USAGE_ROLLUP_FLUSH_MS of
 * its traffic, and never more than MAX_PENDING_ROWS rows. A flush whose D1 batch fails loses that batch (one
 * log line): re-adding it could count twice if the batch did commit. These are statistics, not limits (the
 * key's object never defers its counters), so they may under-count by that much; they never over-count.
 */
import type { RequestCf } from "../http/context";
import type { KeyUsage } from "../keys/store";
import { hourStart, MINUTE_MS } from "../util/time";

/**
 * How often an isolate writes its counts; also the most of its traffic a crash can lose, and how stale a
 * key's `usage_count` and `last_used_at` can be. A minute keeps D1 writes to one batch per isolate per minute
 * and alerts at most about a minute late.
 */
const USAGE_ROLLUP_FLUSH_MS = MINUTE_MS;
/** A batch this large (distinct key × hour × outcome rows) is flushed at once, whatever the interval. */
export const MAX_PENDING_ROWS = 500;
/** Distinct client observations kept per key between flushes; more in one interval is not more news. */
const MAX_OBSERVATIONS_PER_KEY = 16;

/** Where a request came from: the client address and, when Cloudflare provides them, ASN and country. */
export interface Observation {
  ip: string | null;
  asn: number | null;
  country: string | null;
}

export interface PendingBatch {
  /** `${hourStart}\n${keyId}\n${outcome}` → count. keyId '' for refusals with no known key. */
  counts: Map<string, number>;
  /** keyId → distinct places its admissions came from, `${ip}\n${asn}\n${country}` (refusals are not kept). */
  observations: Map<string, Set<string>>;
  /** keyId → its latest admission (its `last_used_at`); the admissions themselves are the `valid` rows. */
  lastAdmittedAt: Map<string, number>;
  /** The latest time counted; lets the flush see which hour is "now". */
  lastAt: number;
}

/** The outcome of an admission; every other outcome is a refusal code. */
const ADMITTED = "valid";

function emptyBatch(): PendingBatch {
  return { counts: new Map(), observations: new Map(), lastAdmittedAt: new Map(), lastAt: 0 };
}

let pending = emptyBatch();
/** 0 until this isolate counts its first decision: the first interval starts then, not at once. */
let lastFlushAt = 0;

/**
 * Counts one final decision in this isolate's pending batch (see ./decision-sink.ts for the hook that also starts
 * the flush when it is due).
 * @example countDecision(keyId, decision.code, { ip, asn: null, country: null }, now);
 */
export function countDecision(keyId: string | null, outcome: string, from: Observation, now: number): void {
  const hour = hourStart(now);
  if (lastFlushAt === 0) lastFlushAt = now;
  const row = `${hour}\n${keyId ?? ""}\n${outcome}`;
  pending.counts.set(row, (pending.counts.get(row) ?? 0) + 1);
  if (now > pending.lastAt) pending.lastAt = now;
  // Only admissions say where a key is used from: a refused attempt must not make its network "known"
  // (an attacker could otherwise teach the history before getting in). Refusals have their own rules.
  if (keyId === null || outcome !== ADMITTED) return;
  if (now > (pending.lastAdmittedAt.get(keyId) ?? 0)) pending.lastAdmittedAt.set(keyId, now);
  let seen = pending.observations.get(keyId);
  if (!seen) {
    seen = new Set();
    pending.observations.set(keyId, seen);
  }
  if (seen.size < MAX_OBSERVATIONS_PER_KEY) seen.add(`${from.ip ?? ""}\n${from.asn ?? ""}\n${from.country ?? ""}`);
}

/** The ASN and country from `request.cf` (only these two are read), when they are well-formed. */
export function fromCf(ip: string | null, raw: RequestCf | undefined): Observation {
  const cf = raw as { asn?: unknown; country?: unknown } | undefined;
  const asn = typeof cf?.asn === "number" && Number.isInteger(cf.asn) && cf.asn > 0 ? cf.asn : null;
  const country = typeof cf?.country === "string" && /^[A-Z0-9]{2}$/.test(cf.country) ? cf.country : null;
  return { ip, asn, country };
}

/** Hands over the pending batch if the interval has passed or it is full; null otherwise. */
export function takeBatchIfDue(now: number): PendingBatch | null {
  if (pending.counts.size === 0) return null;
  if (now - lastFlushAt < USAGE_ROLLUP_FLUSH_MS && pending.counts.size < MAX_PENDING_ROWS) return null;
  return takeBatch(now);
}

/** Hands over whatever is pending (the scheduled job and tests flush unconditionally). */
export function takeBatch(now: number): PendingBatch | null {
  lastFlushAt = now;
  if (pending.counts.size === 0) return null;
  const batch = pending;
  pending = emptyBatch();
  return batch;
}

/** Parses an observation back: the inverse of the string kept in `observations`. */
export function parseObservation(text: string): Observation {
  const [ip = "", asn = "", country = ""] = text.split("\n");
  return { ip: ip === "" ? null : ip, asn: asn === "" ? null : Number(asn), country: country === "" ? null : country };
}

export interface CountRow {
  hour: number;
  keyId: string;
  outcome: string;
  count: number;
}

/** The batch's counts, one row per (hour, key, outcome). */
export function countRows(batch: PendingBatch): CountRow[] {
  return [...batch.counts].map(([row, count]) => {
    const [hour, keyId = "", outcome = ""] = row.split("\n");
    return { hour: Number(hour), keyId, outcome, count };
  });
}

/** The same counts per consumer: `hour`, the consumer, outcome, count. */
export interface ConsumerCountRow {
  hour: number;
  consumerId: string;
  outcome: string;
  count: number;
}

/**
 * The batch's counts rolled up by each key's consumer (`ownerOf`: key id → owner id). Rows of no known key
 * (key id '', or a key `ownerOf` does not hold) belong to no consumer and are left out.
 */
export function consumerRows(rows: readonly CountRow[], ownerOf: ReadonlyMap<string, string>): ConsumerCountRow[] {
  const byConsumer = new Map<string, ConsumerCountRow>();
  for (const r of rows) {
    const consumerId = ownerOf.get(r.keyId);
    if (consumerId === undefined) continue;
    const k = `${r.hour}\n${consumerId}\n${r.outcome}`;
    const entry = byConsumer.get(k) ?? { hour: r.hour, consumerId, outcome: r.outcome, count: 0 };
    entry.count += r.count;
    byConsumer.set(k, entry);
  }
  return [...byConsumer.values()];
}

/** Each admitted key's admissions in the batch and the latest of them: what its key row is told. */
export function keyUsage(batch: PendingBatch, rows: readonly CountRow[]): [keyId: string, KeyUsage][] {
  const admitted = new Map<string, number>();
  for (const r of rows)
    if (r.outcome === ADMITTED && r.keyId !== "") admitted.set(r.keyId, (admitted.get(r.keyId) ?? 0) + r.count);
  return [...admitted].map(([keyId, count]) => [
    keyId,
    { count, lastUsedAt: batch.lastAdmittedAt.get(keyId) ?? batch.lastAt },
  ]);
}
