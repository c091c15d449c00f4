/**
 * Units of time and the calendar forms the authorizer writes (ISO 8601 instants, UTC days). Times are epoch
 * milliseconds everywhere in the code and in D1; these are the only conversions. What time it is comes from
 * ./clock.ts, never from here.
 */

export const SECOND_MS = 1_000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/**
 * An instant as an ISO 8601 string, as the admin API and the report write them.
 * @example isoTime(0) // "1970-01-01T00:00:00.000Z"
 */
export const isoTime = (ms: number): string => new Date(ms).toISOString();

/** Like isoTime, keeping null (a time that has not happened: never used, never revoked). */
export const isoTimeOrNull = (ms: number | null): string | null => (ms === null ? null : isoTime(ms));

/**
 * The UTC day an instant falls in, as 'YYYY-MM-DD' (the key of the daily rollups).
 * @example utcDay(Date.UTC(2026, 0, 2, 23, 59)) // "2026-01-02"
 */
export const utcDay = (ms: number): string => isoTime(ms).slice(0, 10);

/** When a UTC day ('YYYY-MM-DD') starts, in epoch ms; NaN if it is not a date. */
export const utcDayStart = (day: string): number => Date.parse(`${day}T00:00:00Z`);

/** Whether `day` is a real calendar day written as 'YYYY-MM-DD' (so not 2026-02-30). */
export const isCalendarDay = (day: string): boolean => {
  const start = utcDayStart(day);
  return !Number.isNaN(start) && utcDay(start) === day;
};

/** The start of the hour an instant falls in (the key of the hourly rollups). */
export const hourStart = (ms: number): number => ms - (ms % HOUR_MS);

/**
 * Every UTC day from `from` to `to`, inclusive, as 'YYYY-MM-DD'.
 * @example daysBetween("2026-01-30", "2026-02-01") // ["2026-01-30", "2026-01-31", "2026-02-01"]
 */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = utcDayStart(from); t <= utcDayStart(to); t += DAY_MS) out.push(utcDay(t));
  return out;
}

/** Whole seconds since the epoch (signature timestamps, JWT claims). */
export const epochSeconds = (ms: number): number => Math.floor(ms / SECOND_MS);
