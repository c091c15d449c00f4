/**
 * GET /admin/v1/usage?from=&to= — every decision, keyed or not, per UTC day and outcome; and the day range
 * both usage routes read (this one and get-key-usage.ts).
 */
import { invalidField, validate } from "../http/json-body";
import { readUsage } from "../monitoring/usage-store";
import { adminJson, type AdminContext } from "./context";
import { usageQuery } from "./schemas";
import { clock } from "../util/clock";
import { DAY_MS, utcDay, utcDayStart } from "../util/time";

/** The longest range one usage query may cover. */
export const MAX_USAGE_RANGE_DAYS = 366;
/** The range when none is given: the last 30 days, today included. */
const DEFAULT_USAGE_DAYS = 30;

/** The `from` and `to` days asked for (400 if reversed or too long), defaulting to the last DEFAULT_USAGE_DAYS. */
export function usageRange(c: AdminContext): { from: string; to: string } {
  const query = validate(usageQuery, c.req.query());
  const to = query.to ?? utcDay(clock.now());
  const from = query.from ?? utcDay(utcDayStart(to) - (DEFAULT_USAGE_DAYS - 1) * DAY_MS);
  if (from > to) throw invalidField("from", "must not be after to");
  const days = (utcDayStart(to) - utcDayStart(from)) / DAY_MS + 1;
  if (days > MAX_USAGE_RANGE_DAYS) throw invalidField("from", `the range may cover at most ${MAX_USAGE_RANGE_DAYS} days`);
  return { from, to };
}

export async function getUsage(c: AdminContext): Promise<Response> {
  return adminJson(c, await readUsage(c.env.DB, usageRange(c)));
}
