/**
 * Reading the daily rollups: per key, per consumer (the consumer rollups the flush writes beside the per-key
 * ones), totals over every key (refusals with no known key included), or every consumer's a page at a time.
 */
import * as z from "zod";
import { daysBetween } from "../util/time";

/** Decisions by outcome (a verify result code such as `valid` or `key_revoked`). */
const outcomeCounts = z.record(z.string(), z.int());

const usageDaySchema = z.object({ day: z.string(), total: z.int(), outcomes: outcomeCounts });
type UsageDay = z.output<typeof usageDaySchema>;

/** The decisions between two UTC days (inclusive): totals, by outcome, and per day. */
export const usageReportSchema = z.object({
  from: z.string(),
  to: z.string(),
  total: z.int(),
  outcomes: outcomeCounts,
  days: z.array(usageDaySchema),
});
export type UsageReport = z.output<typeof usageReportSchema>;

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
  group_by: z.literal("consumer"),
  consumers: z.array(consumerFiguresSchema),
  next_cursor: z.string().nullable(),
});
export type UsageByConsumer = z.output<typeof usageByConsumerSchema>;

interface DayRow {
  day: string;
  outcome: string;
  count: number;
}

/** Totals, outcomes and every day of the range (zeros included, so a chart needs no gap filling) from day rows. */
function figures(range: { from: string; to: string }, rows: readonly DayRow[]) {
  const days = new Map<string, UsageDay>();
  for (const day of daysBetween(range.from, range.to)) days.set(day, { day, total: 0, outcomes: {} });
  const outcomes: Record<string, number> = {};
  let total = 0;
  for (const r of rows) {
    const day = days.get(r.day)!;
    day.outcomes[r.outcome] = (day.outcomes[r.outcome] ?? 0) + r.count;
    day.total += r.count;
    outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + r.count;
    total += r.count;
  }
  return { total, outcomes, days: [...days.values()] };
}

/**
 * Counts between two UTC days (inclusive), by day and outcome: one key's (`keyId`), one consumer's
 * (`consumerId`, from its own rollup, whatever its number of keys), or with neither every decision's.
 */
export async function readUsage(
  db: D1Database,
  range: { from: string; to: string; keyId?: string; consumerId?: string },
): Promise<UsageReport> {
  const statement =
    range.consumerId === undefined
      ? db
          .prepare(
            `SELECT day, outcome, SUM(count) AS count FROM usage_daily
             WHERE day >= ?1 AND day <= ?2 AND (?3 IS NULL OR key_id = ?3)
             GROUP BY day, outcome ORDER BY day, outcome`,
          )
          .bind(range.from, range.to, range.keyId ?? null)
      : db
          .prepare(
            `SELECT day, outcome, count FROM usage_consumer_daily
             WHERE consumer_id = ?3 AND day >= ?1 AND day <= ?2 ORDER BY day, outcome`,
          )
          .bind(range.from, range.to, range.consumerId);
  const { results } = await statement.all<DayRow>();
  return { from: range.from, to: range.to, ...figures(range, results) };
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
      `SELECT consumer_id, day, outcome, count FROM usage_consumer_daily
       WHERE consumer_id IN (
         SELECT consumer_id FROM usage_consumer_daily WHERE ${which} AND +day >= ?1 AND +day <= ?2
         GROUP BY consumer_id ORDER BY consumer_id LIMIT ?4)
       AND +day >= ?1 AND +day <= ?2
       ORDER BY consumer_id, day, outcome`,
    )
    .bind(query.from, query.to, query.consumerId ?? query.after, query.limit + 1)
    .all<DayRow & { consumer_id: string }>();
  const byConsumer = new Map<string, DayRow[]>();
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
