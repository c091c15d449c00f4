/**
 * The refusal throttle. Unknown keys with valid checksums can be made at will (CRC32 is public) and each
 * distinct one costs a KV and a D1 read, so a client whose refused credentials keep costing storage reads
 * is kept off storage until its window ends (OWASP API2). It counts only refusals that read KV or D1, and
 * it throttles only that read: a key the isolate already knows (its cached copy, or a hash remembered as
 * unknown) is decided as usual, so one misbehaving client does not lock out a valid neighbour behind the
 * same address. Clients are counted per address, and per /64 for IPv6 (one host usually holds a whole /64).
 * State is per isolate and bounded.
 */
import type { ThrottleConfig } from "../config";
import { BoundedTtlCache } from "../util/bounded-cache";
import { toHex } from "../util/hex";
import { parseIp } from "../util/ip";
import { windowStartOf } from "../limits/window";
import { DAY_MS, SECOND_MS } from "../util/time";

/** Distinct clients tracked per isolate; beyond it the oldest are forgotten (they start counting afresh). */
export const THROTTLE_MAX_CLIENTS = 20_000;

const counts = new BoundedTtlCache<string, { windowStart: number; refusals: number }>({
  maxEntries: THROTTLE_MAX_CLIENTS,
  ttlMs: DAY_MS,
});

/** The client a refusal is counted against: the address, or its /64 for IPv6. */
export function clientBucket(ip: string): string | null {
  const bytes = parseIp(ip);
  if (!bytes) return null;
  if (bytes.length === 4) return ip;
  return `${toHex(bytes.subarray(0, 8))}/64`;
}

/** If the client is throttled, when it may try again (epoch ms); otherwise null. */
export function throttledUntil(config: ThrottleConfig, ip: string | null, now: number): number | null {
  if (config.limit === 0 || ip === null) return null;
  const bucket = clientBucket(ip);
  const entry = bucket === null ? undefined : counts.get(bucket, now);
  const start = windowStartOf(now, config.windowSeconds);
  if (!entry || entry.windowStart !== start || entry.refusals < config.limit) return null;
  return start + config.windowSeconds * SECOND_MS;
}

export function recordRefusal(config: ThrottleConfig, ip: string | null, now: number): void {
  if (config.limit === 0 || ip === null) return;
  const bucket = clientBucket(ip);
  if (bucket === null) return;
  const start = windowStartOf(now, config.windowSeconds);
  const entry = counts.get(bucket, now);
  const refusals = entry && entry.windowStart === start ? entry.refusals + 1 : 1;
  counts.set(bucket, { windowStart: start, refusals }, now);
}
