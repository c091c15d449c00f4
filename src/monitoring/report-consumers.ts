/**
 * The security report's consumer figures: how many consumers there are, how many live keys each holds, which
 * have no shared limits, which hold keys not rotated for ROTATION_DUE_DAYS, and which sent the most traffic in
 * the last 24 clock hours (from the consumer rollups). Key figures through keys/store.ts; the rest here.
 */
import { countConsumersByLiveKeys, findConsumersWithStaleKeys } from "../keys/store";
import { DAY_MS, HOUR_MS, isoTime } from "../util/time";
import type { ConsumerFigures } from "./report-schema";

/** A live key not rotated for this long counts as due for rotation. */
export const ROTATION_DUE_DAYS = 90;
/** The report lists this many consumers by traffic. */
const TOP_CONSUMERS = 10;
/** At most this many consumers with keys due for rotation are listed (the count is always complete). */
const STALE_LIST_LIMIT = 50;

/** The median of a histogram of [value, how many] pairs sorted by value; null when it counts nothing. */
export function histogramMedian(histogram: readonly (readonly [value: number, count: number])[]): number | null {
  const total = histogram.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return null;
  // The values at 0-based positions ⌊(n−1)/2⌋ and ⌊n/2⌋: the same one for an odd n, the middle two otherwise.
  const at = (position: number) => {
    let seen = 0;
    for (const [value, count] of histogram) {
      seen += count;
      if (position < seen) return value;
    }
    return histogram[histogram.length - 1]![0];
  };
  return (at(Math.floor((total - 1) / 2)) + at(Math.floor(total / 2))) / 2;
}

/** Every consumer figure of the report at `now`. */
export async function readConsumerFigures(db: D1Database, now: number): Promise<ConsumerFigures> {
  const hour = now - (now % HOUR_MS);
  const [byLiveKeys, withoutLimits, stale, top] = await Promise.all([
    countConsumersByLiveKeys(db, now),
    db
      .prepare("SELECT COUNT(*) AS n FROM consumers WHERE status != 'deleted' AND rate_limits = '[]'")
      .first<{ n: number }>(),
    findConsumersWithStaleKeys(db, now, now - ROTATION_DUE_DAYS * DAY_MS, STALE_LIST_LIMIT),
    // The hour index reads only the window's rows; the primary key (consumer first) would read all 8 days'.
    db
      .prepare(
        `SELECT consumer_id, SUM(count) AS total, SUM(CASE WHEN outcome = 'valid' THEN count ELSE 0 END) AS valid
         FROM usage_consumer_hourly INDEXED BY usage_consumer_hourly_hour WHERE hour > ?1
         GROUP BY consumer_id ORDER BY total DESC, consumer_id LIMIT ?2`,
      )
      .bind(hour - 24 * HOUR_MS, TOP_CONSUMERS)
      .all<{ consumer_id: string; total: number; valid: number }>(),
  ]);
  const histogram = byLiveKeys.map((r) => [r.live_keys, r.consumers] as const);
  return {
    count: byLiveKeys.reduce((sum, r) => sum + r.consumers, 0),
    live_keys_per_consumer: {
      median: histogramMedian(histogram),
      max: byLiveKeys.length === 0 ? 0 : byLiveKeys[byLiveKeys.length - 1]!.live_keys,
      without_live_keys: byLiveKeys.find((r) => r.live_keys === 0)?.consumers ?? 0,
    },
    without_shared_limits: withoutLimits?.n ?? 0,
    keys_due_rotation: {
      older_than_days: ROTATION_DUE_DAYS,
      count: stale.count,
      consumers: stale.consumers.map((c) => ({ ...c, oldest_created_at: isoTime(c.oldest_created_at) })),
    },
    top_by_traffic_24h: top.results,
  };
}
