/**
 * The per-isolate usage aggregator. Every verify decision is counted here, in memory, at the one place it
 * becomes final (verifyKey): the cost per request is a map increment and, for an admission, a set insert of
 * where the request came from. The counts leave the isolate in batches (./flush.ts), started in `waitUntil`
 * by the first decision after USAGE_ROLLUP_FLUSH_MS, or at once when the batch reaches its size bound.
 *
 * What a crash can lose: counts are in memory until their flush, so an isolate that dies (or is evicted
 * without a further request) loses what it counted since its last flush — at most USAGE_ROLLUP_FLUSH_MS of
 * its traffic, and never more than MAX_PENDING_ROWS rows. A flush whose D1 batch fails loses that batch (one
 * log line): re-adding it could count twice if the batch did commit. Rollups are monitoring data, so they may
 * under-count by that much; they never over-count. (`usage_count` on the key row is counted separately.)
 */
import { hourStart, MINUTE_MS } from "../util/time";

/**
 * How often an isolate writes its counts; also the most of its traffic a crash can lose. A minute keeps
 * D1 writes to one batch per isolate per minute and alerts at most about a minute late.
 */
export const USAGE_ROLLUP_FLUSH_MS = MINUTE_MS;
/** A batch this large (distinct key × hour × outcome rows) is flushed at once, whatever the interval. */
export const MAX_PENDING_ROWS = 500;
/** Distinct client observations kept per key between flushes; more in one interval is not more news. */
export const MAX_OBSERVATIONS_PER_KEY = 16;

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
  /** The latest time counted; lets the flush see which hour is "now". */
  lastAt: number;
}

/** The outcome of an admission; every other outcome is a refusal code. */
const ADMITTED = "valid";

function emptyBatch(): PendingBatch {
  return { counts: new Map(), observations: new Map(), lastAt: 0 };
}

let pending = emptyBatch();
/** 0 until this isolate counts its first decision: the first interval starts then, not at once. */
let lastFlushAt = 0;

/** `request.cf` as the runtime gives it (absent over RPC and in most tests); only `asn` and `country` are read. */
export type RequestCf = object;

/**
 * Counts one final decision in this isolate's pending batch (see ./record.ts for the hook that also starts
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
  let seen = pending.observations.get(keyId);
  if (!seen) pending.observations.set(keyId, (seen = new Set()));
  if (seen.size < MAX_OBSERVATIONS_PER_KEY) seen.add(`${from.ip ?? ""}\n${from.asn ?? ""}\n${from.country ?? ""}`);
}

/** The ASN and country from `request.cf`, when they are well-formed. */
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

/** Splits a count row key back into its parts. */
export function parseCountRow(row: string): { hour: number; keyId: string; outcome: string } {
  const [hour, keyId = "", outcome = ""] = row.split("\n");
  return { hour: Number(hour), keyId, outcome };
}
