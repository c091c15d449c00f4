/**
 * Reading the daily rollups: per key, or totals over every key (refusals with no known key included).
 */
import * as z from "zod";
import { daysBetween } from "../util/time";

/** Decisions by outcome (a verify result code such as `valid` or `key_revoked`). */
const outcomeCounts = z.record(z.string(), z.int());

export const usageDaySchema = z.object({ day: z.string(), total: z.int(), outcomes: outcomeCounts });
export type UsageDay = z.output<typeof usageDaySchema>;

/** The decisions between two UTC days (inclusive): totals, by outcome, and per day. */
export const usageReportSchema = z.object({
  from: z.string(),
  to: z.string(),
  total: z.int(),
  outcomes: outcomeCounts,
  days: z.array(usageDaySchema),
});
export type UsageReport = z.output<typeof usageReportSchema>;

/**
 * Counts between two UTC days (inclusive), by day and outcome. `keyId` undefined means every key; days
 * with no decisions are listed with zeros, so a chart needs no gap filling.
 */
export async function readUsage(
  db: D1Database,
  range: { from: string; to: string; keyId?: string },
): Promise<UsageReport> {
  const { results } = await db
    .prepare(
      `SELECT day, outcome, SUM(count) AS count FROM usage_daily
       WHERE day >= ?1 AND day <= ?2 AND (?3 IS NULL OR key_id = ?3)
       GROUP BY day, outcome ORDER BY day, outcome`,
    )
    .bind(range.from, range.to, range.keyId ?? null)
    .all<{ day: string; outcome: string; count: number }>();
  const days = new Map<string, UsageDay>();
  for (const day of daysBetween(range.from, range.to)) days.set(day, { day, total: 0, outcomes: {} });
  const outcomes: Record<string, number> = {};
  let total = 0;
  for (const r of results) {
    const day = days.get(r.day)!;
    day.outcomes[r.outcome] = r.count;
    day.total += r.count;
    outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + r.count;
    total += r.count;
  }
  return { from: range.from, to: range.to, total, outcomes, days: [...days.values()] };
}
