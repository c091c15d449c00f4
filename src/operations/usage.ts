/**
 * Read usage: every decision, keyed or not, or one key's, per UTC day and outcome, over a range of days that
 * defaults to the last DEFAULT_USAGE_DAYS.
 */
import * as z from "zod";
import { invalidField } from "../http/json-body";
import { readUsage, usageReportSchema, type UsageReport } from "../monitoring/usage-store";
import type { AdminActor } from "./actor";
import type { OperationContext } from "./context";
import { requireKey } from "./key-change";
import type { usageQuery } from "./schemas";
import { clock } from "../util/clock";
import { DAY_MS, utcDay, utcDayStart } from "../util/time";

/** The longest range one usage query may cover. */
export const MAX_USAGE_RANGE_DAYS = 366;
/** The range when none is given: the last 30 days, today included. */
const DEFAULT_USAGE_DAYS = 30;

export type UsageInput = z.output<typeof usageQuery>;

/** One key's usage: the key's id and its figures. */
export const keyUsageResult = z.object({ key_id: z.string(), ...usageReportSchema.shape });
export type KeyUsageResult = z.output<typeof keyUsageResult>;

/** The `from` and `to` days asked for (400 if reversed or too long), defaulting to the last DEFAULT_USAGE_DAYS. */
function usageRange(input: UsageInput): { from: string; to: string } {
  const to = input.to ?? utcDay(clock.now());
  const from = input.from ?? utcDay(utcDayStart(to) - (DEFAULT_USAGE_DAYS - 1) * DAY_MS);
  if (from > to) throw invalidField("from", "must not be after to");
  const days = (utcDayStart(to) - utcDayStart(from)) / DAY_MS + 1;
  if (days > MAX_USAGE_RANGE_DAYS)
    throw invalidField("from", `the range may cover at most ${MAX_USAGE_RANGE_DAYS} days`);
  return { from, to };
}

export async function getUsage(ctx: OperationContext<AdminActor>, input: UsageInput): Promise<UsageReport> {
  return readUsage(ctx.env.DB, usageRange(input));
}

export async function getKeyUsage(
  ctx: OperationContext<AdminActor>,
  id: string,
  input: UsageInput,
): Promise<KeyUsageResult> {
  const range = usageRange(input);
  await requireKey(ctx.env, id);
  return { key_id: id, ...(await readUsage(ctx.env.DB, { ...range, keyId: id })) };
}
