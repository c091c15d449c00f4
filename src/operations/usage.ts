/**
 * Read usage: every decision, keyed or not, one key's, or one consumer's (all its keys'), by outcome, per UTC
 * day over a range of days that defaults to the last DEFAULT_USAGE_DAYS, or per UTC hour over the last
 * DEFAULT_USAGE_HOURS (at most MAX_USAGE_HOURS); or every consumer's, grouped per day, a page at a time.
 */
import * as z from "zod";
import { invalidField } from "../http/json-body";
import { ProblemError } from "../http/problem";
import {
  consumerExists,
  hourlyUsageReportSchema,
  readHourlyUsage,
  readUsage,
  readUsageByConsumer,
  usageByConsumerSchema,
  usageReportSchema,
} from "../monitoring/usage-store";
import { mayActOn, type AdminActor, type KeyActor } from "./actor";
import type { OperationContext } from "./context";
import { requireKey } from "./key-change";
import type { allUsageQuery, usageQuery } from "./schemas";
import { clock } from "../util/clock";
import { DAY_MS, HOUR_MS, hourStart, utcDay, utcDayStart } from "../util/time";

/** The longest range one usage query may cover. */
const MAX_USAGE_RANGE_DAYS = 366;
/** The range when none is given: the last 30 days, today included. */
const DEFAULT_USAGE_DAYS = 30;
/** The hours when granularity=hour names none: the last 24, the current one included. */
const DEFAULT_USAGE_HOURS = 24;
/** Consumers per page of GET /usage?group_by=consumer when no limit is given. */
const DEFAULT_CONSUMERS_PER_PAGE = 20;

export type UsageInput = z.output<typeof usageQuery>;
export type AllUsageInput = z.output<typeof allUsageQuery>;

/** One key's usage: the key's id and its figures, per day or per hour (`granularity` tells which). */
export const keyUsageResult = z.union([
  z.object({ key_id: z.string(), ...usageReportSchema.shape }),
  z.object({ key_id: z.string(), ...hourlyUsageReportSchema.shape }),
]);
export type KeyUsageResult = z.output<typeof keyUsageResult>;

/** One consumer's usage (all its keys'): the consumer's id and its figures, as a key's. */
export const consumerUsageResult = z.union([
  z.object({ consumer_id: z.string(), ...usageReportSchema.shape }),
  z.object({ consumer_id: z.string(), ...hourlyUsageReportSchema.shape }),
]);
export type ConsumerUsageResult = z.output<typeof consumerUsageResult>;

/** GET /usage: the totals per day or per hour, or with group_by=consumer a page of consumers. */
export const allUsageResult = z.union([usageReportSchema, hourlyUsageReportSchema, usageByConsumerSchema]);
export type AllUsageResult = z.output<typeof allUsageResult>;

/** The `from` and `to` days asked for (400 if reversed or too long), defaulting to the last DEFAULT_USAGE_DAYS. */
function dayRange(input: UsageInput): { from: string; to: string } {
  const to = input.to ?? utcDay(clock.now());
  const from = input.from ?? utcDay(utcDayStart(to) - (DEFAULT_USAGE_DAYS - 1) * DAY_MS);
  if (from > to) throw invalidField("from", "must not be after to");
  const days = (utcDayStart(to) - utcDayStart(from)) / DAY_MS + 1;
  if (days > MAX_USAGE_RANGE_DAYS)
    throw invalidField("from", `the range may cover at most ${MAX_USAGE_RANGE_DAYS} days`);
  return { from, to };
}

/** The last `hours` UTC hours (the current, partial one included), as the starts of the first and the last. */
function hourRange(input: UsageInput): { from: number; to: number } {
  const to = hourStart(clock.now());
  return { from: to - ((input.hours ?? DEFAULT_USAGE_HOURS) - 1) * HOUR_MS, to };
}

type UsageRange = { granularity: "day"; from: string; to: string } | { granularity: "hour"; from: number; to: number };

/** The range asked for, at its granularity (the schema has refused the other granularity's parameters). */
const usageRange = (input: UsageInput): UsageRange =>
  input.granularity === "hour"
    ? { granularity: "hour", ...hourRange(input) }
    : { granularity: "day", ...dayRange(input) };

/** The figures of a range: one key's, one consumer's, or with neither every decision's. */
const readRange = (db: D1Database, range: UsageRange, subject: { keyId?: string; consumerId?: string }) =>
  range.granularity === "hour"
    ? readHourlyUsage(db, { ...range, ...subject })
    : readUsage(db, { ...range, ...subject });

/** Cursors are base64url of the last consumer id of the page (ids hold `+`, `:` and `@`, which queries mangle). */
const encodeCursor = (consumerId: string) =>
  btoa(consumerId).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");

const CURSOR_ID = /^[A-Za-z0-9._:@+-]{1,128}$/;

function decodeCursor(cursor: string): string {
  let id = "";
  try {
    id = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    throw invalidField("cursor", "not a cursor from a previous page");
  }
  if (!CURSOR_ID.test(id)) throw invalidField("cursor", "not a cursor from a previous page");
  return id;
}

export async function getUsage(ctx: OperationContext<AdminActor>, input: AllUsageInput): Promise<AllUsageResult> {
  const range = usageRange(input);
  // Grouping is per day only (the schema refuses group_by with granularity=hour).
  if (input.group_by === undefined || range.granularity === "hour")
    return readRange(ctx.env.DB, range, { consumerId: input.consumer_id });
  const { consumers, next } = await readUsageByConsumer(ctx.env.DB, {
    from: range.from,
    to: range.to,
    after: input.cursor === undefined ? "" : decodeCursor(input.cursor),
    consumerId: input.consumer_id,
    limit: input.limit ?? DEFAULT_CONSUMERS_PER_PAGE,
  });
  return {
    from: range.from,
    to: range.to,
    granularity: "day",
    group_by: "consumer",
    consumers,
    next_cursor: next === null ? null : encodeCursor(next),
  };
}

export async function getKeyUsage(
  ctx: OperationContext<KeyActor>,
  id: string,
  input: UsageInput,
): Promise<KeyUsageResult> {
  const range = usageRange(input);
  await requireKey(ctx, id);
  return { key_id: id, ...(await readRange(ctx.env.DB, range, { keyId: id })) };
}

/** One consumer's usage; 404 `consumer_not_found` unless a consumer row has the id (a deleted one's still does). */
export async function getConsumerUsage(
  ctx: OperationContext<KeyActor>,
  id: string,
  input: UsageInput,
): Promise<ConsumerUsageResult> {
  const range = usageRange(input);
  if (!mayActOn(ctx.actor, id) || !(await consumerExists(ctx.env.DB, id))) throw new ProblemError("consumer_not_found");
  return { consumer_id: id, ...(await readRange(ctx.env.DB, range, { consumerId: id })) };
}
