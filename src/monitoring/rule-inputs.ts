/**
 * What the anomaly rules read for one flush, besides the batch itself: the keys' network history, their
 * counts this clock hour and their baselines, and the same hour and baseline per consumer. Every read is one
 * statement over a JSON array of ids, whatever the batch's size.
 */
import { HOUR_MS } from "../util/time";
import { BASELINE_WINDOW_HOURS, type Baseline } from "./anomalies";

const IN_KEYS = "key_id IN (SELECT value FROM json_each(?1))";

/** keyId → the networks it was admitted from since `since`. */
export async function readNetworkHistory(db: D1Database, keyIds: string[], since: number) {
  const history = new Map<string, Set<string>>();
  if (keyIds.length === 0) return history;
  const { results } = await db
    .prepare(`SELECT key_id, network FROM key_networks WHERE ${IN_KEYS} AND last_seen >= ?2`)
    .bind(JSON.stringify(keyIds), since)
    .all<{ key_id: string; network: string }>();
  for (const r of results) {
    let set = history.get(r.key_id);
    if (!set) {
      set = new Set();
      history.set(r.key_id, set);
    }
    set.add(r.network);
  }
  return history;
}

/** keyId → its counts in the clock hour starting at `hour`, by outcome, across every isolate that has flushed. */
export async function readHourCounts(db: D1Database, keyIds: string[], hour: number) {
  const { results } = await db
    .prepare(`SELECT key_id, outcome, count FROM usage_hourly WHERE ${IN_KEYS} AND hour = ?2`)
    .bind(JSON.stringify(keyIds), hour)
    .all<{ key_id: string; outcome: string; count: number }>();
  const byKey = new Map<string, Record<string, number>>();
  for (const r of results) {
    const counts = byKey.get(r.key_id) ?? {};
    counts[r.outcome] = r.count;
    byKey.set(r.key_id, counts);
  }
  return byKey;
}

/** Each key's admissions in the hours before `hour` (at most BASELINE_WINDOW_HOURS), and the hours they span. */
export async function readBaselines(db: D1Database, keyIds: string[], hour: number): Promise<Map<string, Baseline>> {
  const { results } = await db
    .prepare(
      `SELECT key_id, SUM(count) AS admissions, MIN(hour) AS first_hour FROM usage_hourly
       WHERE ${IN_KEYS} AND outcome = 'valid' AND hour >= ?2 AND hour < ?3 GROUP BY key_id`,
    )
    .bind(JSON.stringify(keyIds), hour - BASELINE_WINDOW_HOURS * HOUR_MS, hour)
    .all<{ key_id: string; admissions: number; first_hour: number }>();
  return new Map(results.map((r) => [r.key_id, { admissions: r.admissions, hours: (hour - r.first_hour) / HOUR_MS }]));
}

/** A consumer's admissions in the clock hour so far (all its keys) and its baseline before that hour. */
export interface ConsumerHour {
  admissions: number;
  baseline: Baseline | null;
}

/**
 * consumerId → its admissions this clock hour and its baseline, from the consumer rollups (one read of at
 * most BASELINE_WINDOW_HOURS + 1 rows per consumer, however many keys it has). A consumer with no
 * admissions in the window is left out.
 */
export async function readConsumerHours(
  db: D1Database,
  consumerIds: string[],
  hour: number,
): Promise<Map<string, ConsumerHour>> {
  const { results } = await db
    .prepare(
      `SELECT consumer_id,
              SUM(CASE WHEN hour = ?3 THEN count ELSE 0 END) AS this_hour,
              SUM(CASE WHEN hour < ?3 THEN count ELSE 0 END) AS admissions,
              MIN(CASE WHEN hour < ?3 THEN hour END) AS first_hour
       FROM usage_consumer_hourly
       WHERE consumer_id IN (SELECT value FROM json_each(?1)) AND outcome = 'valid' AND hour >= ?2 AND hour <= ?3
       GROUP BY consumer_id`,
    )
    .bind(JSON.stringify(consumerIds), hour - BASELINE_WINDOW_HOURS * HOUR_MS, hour)
    .all<{ consumer_id: string; this_hour: number; admissions: number; first_hour: number | null }>();
  return new Map(
    results.map((r) => [
      r.consumer_id,
      {
        admissions: r.this_hour,
        baseline: r.first_hour === null ? null : { admissions: r.admissions, hours: (hour - r.first_hour) / HOUR_MS },
      },
    ]),
  );
}
