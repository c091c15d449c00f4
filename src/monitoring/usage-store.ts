/**
 * Reading the rollups, per UTC day or per UTC hour: per key, per consumer (the consumer rollups the flush
 * writes beside the per-key ones), totals over every key (refusals with no known key included), or, per day,
 * every consumer's a page at a time.
 */
import * as z from "zod";
import { DAY_MS, daysBetween, HOUR_MS, isoTime } from "../util/time";

/**
 * How long the hourly rollups (per key and per consumer) are kept: the anomaly baselines read 7 days, the
 * report the last 24 hours, the hourly usage view at most MAX_USAGE_HOURS. Pruned by the scheduled job.
 */
export const HOURLY_RETENTION_DAYS = 8;
/**
 * The most hours one hourly usage query covers: 7 days of hours. A day less than the retention, so the
 * oldest hour asked for is never one the hourly job has begun to prune (it runs once an hour).
 */
export const MAX_USAGE_HOURS = (HOURLY_RETENTION_DAYS - 1) * (DAY_MS / HOUR_MS);

/** Decisions by outcome (a verify result code such as `valid` or `key_revoked`). */
const outcomeCounts = z.record(z.string(), z.int());

const usageDaySchema = z.object({ day: z.string(), total: z.int(), outcomes: outcomeCounts });
type UsageDay = z.output<typeof usageDaySchema>;
/** An hour, named by its start (ISO 8601, UTC). */
const usageHourSchema = z.object({ hour: z.string(), total: z.int(), outcomes: outcomeCounts });

/** The decisions between two UTC days (inclusive): totals, by outcome, and per day. */
export const usageReportSchema = z.object({
  from: z.string(),
  to: z.string(),
  granularity: z.literal("day"),
  total: z.int(),
  outcomes: outcomeCounts,
  days: z.array(usageDaySchema),
});
export type UsageReport = z.output<typeof usageReportSchema>;

/** The decisions between two UTC hours (inclusive, each named by its start): totals, by outcome, and per hour. */
export const hourlyUsageReportSchema = z.object({
  from: z.string(),
  to: z.string(),
  granularity: z.literal("hour"),
  total: z.int(),
  outcomes: outcomeCounts,
  hours: z.array(usageHourSchema),
});
export type HourlyUsageReport = z.output<typeof hourlyUsageReportSchema>;

/** One consumer's figures in a grouped answer: the range is the answer's. */
const consumerFiguresSchema = z.object({
  consumer_id: z.string(),
  total: z.int(),
  outcomes: outcomeCounts,
  days: z.array(usageDaySchema),
});

/** GET /usage?group_by=consumer: a page of consumers (by id) with decisions in the range, each like a key's usage. */
export const usageByConsumerSchema = z.object({
  from: z.string(),
  to: z.string(),
  granularity: z.literal("day"),
  group_by: z.literal("consumer"),
  consumers: z.array(consumerFiguresSchema),
  next_cursor: z.string().nullable(),
});
export type UsageByConsumer = z.output<typeof usageByConsumerSchema>;

/** A rollup row: its period (a day 'YYYY-MM-DD', or an hour's start in epoch ms), outcome and count. */
interface PeriodRow<P extends string | number> {
  period: P;
  outcome: string;
  count: number;
}

/** Totals, outcomes and every period listed (zeros included, so a chart needs no gap filling) from rows. */
function tally(periods: readonly string[], rows: readonly PeriodRow<string>[]) {
  const byPeriod = new Map<string, { total: number; outcomes: Record<string, number> }>();
  for (const period of periods) byPeriod.set(period, { total: 0, outcomes: {} });
  const outcomes: Record<string, number> = {};
  let total = 0;
  for (const r of rows) {
    const entry = byPeriod.get(r.period)!;
    entry.outcomes[r.outcome] = (entry.outcomes[r.outcome] ?? 0) + r.count;
    entry.total += r.count;
    outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + r.count;
    total += r.count;
  }
  return { total, outcomes, byPeriod };
}

/** Totals, outcomes and every day of the range from day rows. */
function figures(range: { from: string; to: string }, rows: readonly PeriodRow<string>[]) {
  const { total, outcomes, byPeriod } = tally(daysBetween(range.from, range.to), rows);
  const days: UsageDay[] = [...byPeriod].map(([day, f]) => ({ day, ...f }));
  return { total, outcomes, days };
}

/** Where each granularity's rollups are, and the name of their period column. */
const ROLLUPS = {
  day: { keys: "usage_daily", consumers: "usage_consumer_daily", period: "day" },
  hour: { keys: "usage_hourly", consumers: "usage_consumer_hourly", period: "hour" },
} as const;

/**
 * One rollup's rows between two periods (inclusive), by period and outcome: one key's, one consumer's (from
 * its own rollup, whatever its number of keys), or with neither every decision's. Three statements, not one
 * with `?3 IS NULL OR key_id = ?3`: SQLite plans a statement before it sees its parameters, and that one reads
 * every key's rows of the range through the period index to find one key's, where this reads the key's own
 * range of the primary key.
 */
async function readRollup<P extends string | number>(
  db: D1Database,
  granularity: keyof typeof ROLLUPS,
  range: { from: P; to: P; keyId?: string; consumerId?: string },
): Promise<PeriodRow<P>[]> {
  const { keys, consumers, period } = ROLLUPS[granularity];
  const within = `${period} >= ?1 AND ${period} <= ?2`;
  const order = `ORDER BY ${period}, outcome`;
  const statement =
    range.consumerId !== undefined
      ? db
          .prepare(
            `SELECT ${period} AS period, outcome, count FROM ${consumers} WHERE consumer_id = ?3 AND ${within} ${order}`,
          )
          .bind(range.from, range.to, range.consumerId)
      : range.keyId !== undefined
        ? db
            .prepare(`SELECT ${period} AS period, outcome, count FROM ${keys} WHERE key_id = ?3 AND ${within} ${order}`)
            .bind(range.from, range.to, range.keyId)
        : db
            .prepare(
              `SELECT ${period} AS period, outcome, SUM(count) AS count FROM ${keys} WHERE ${within}
               GROUP BY ${period}, outcome ${order}`,
            )
            .bind(range.from, range.to);
  return (await statement.all<PeriodRow<P>>()).results;
}

/**
 * Counts between two UTC days (inclusive), by day and outcome: one key's (`keyId`), one consumer's
 * (`consumerId`), or with neither every decision's.
 */
export async function readUsage(
  db: D1Database,
  range: { from: string; to: string; keyId?: string; consumerId?: string },
): Promise<UsageReport> {
  const rows = await readRollup(db, "day", range);
  return { from: range.from, to: range.to, granularity: "day", ...figures(range, rows) };
}

/**
 * Counts between two UTC hours (inclusive; `from` and `to` are hour starts, epoch ms), by hour and outcome:
 * one key's, one consumer's, or every decision's, as readUsage. Every hour of the range is listed.
 */
export async function readHourlyUsage(
  db: D1Database,
  range: { from: number; to: number; keyId?: string; consumerId?: string },
): Promise<HourlyUsageReport> {
  const rows = await readRollup(db, "hour", range);
  const hours: string[] = [];
  for (let t = range.from; t <= range.to; t += HOUR_MS) hours.push(isoTime(t));
  const { total, outcomes, byPeriod } = tally(
    hours,
    rows.map((r) => ({ period: isoTime(r.period), outcome: r.outcome, count: r.count })),
  );
  return {
    from: isoTime(range.from),
    to: isoTime(range.to),
    granularity: "hour",
    total,
    outcomes,
    hours: [...byPeriod].map(([hour, f]) => ({ hour, ...f })),
  };
}

/**
 * One page of consumers with decisions between two UTC days, in id order after `after` (exclusive; '' for
 * the first page), or only `consumerId`. The page is chosen by a walk of the rollup's primary key in
 * consumer order (`+day` keeps SQLite off the day index, which would read every row of the range first), so
 * a page reads about its own consumers' rows; `next` is the last consumer of a full page.
 */
export async function readUsageByConsumer(
  db: D1Database,
  query: { from: string; to: string; after: string; consumerId?: string; limit: number },
): Promise<{ consumers: z.output<typeof consumerFiguresSchema>[]; next: string | null }> {
  const which = query.consumerId === undefined ? "consumer_id > ?3" : "consumer_id = ?3";
  const { results } = await db
    .prepare(
      `SELECT consumer_id, day AS period, outcome, count FROM usage_consumer_daily
       WHERE consumer_id IN (
         SELECT consumer_id FROM usage_consumer_daily WHERE ${which} AND +day >= ?1 AND +day <= ?2
         GROUP BY consumer_id ORDER BY consumer_id LIMIT ?4)
       AND +day >= ?1 AND +day <= ?2
       ORDER BY consumer_id, day, outcome`,
    )
    .bind(query.from, query.to, query.consumerId ?? query.after, query.limit + 1)
    .all<PeriodRow<string> & { consumer_id: string }>();
  const byConsumer = new Map<string, PeriodRow<string>[]>();
  for (const r of results) {
    const rows = byConsumer.get(r.consumer_id);
    if (rows) rows.push(r);
    else byConsumer.set(r.consumer_id, [r]);
  }
  const ids = [...byConsumer.keys()];
  const page = ids.slice(0, query.limit);
  return {
    consumers: page.map((id) => ({ consumer_id: id, ...figures(query, byConsumer.get(id)!) })),
    next: ids.length > query.limit ? page[page.length - 1]! : null,
  };
}

/**
 * Whether a consumer row has this id (a deleted consumer's row stays, and so does its usage). A small read of
 * its own: the consumer store (src/consumers/) is not the usage route's to depend on for one existence check.
 */
export async function consumerExists(db: D1Database, id: string): Promise<boolean> {
  return (await db.prepare("SELECT 1 AS found FROM consumers WHERE id = ?").bind(id).first()) !== null;
}
