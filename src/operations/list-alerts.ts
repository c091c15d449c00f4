/** Read anomaly alerts, newest first, a page at a time: open ones or all, by key, consumer and rule. */
import * as z from "zod";
import { alertViewSchema, findAlerts, toAlertObject } from "../monitoring/alerts";
import type { MonitoringConfig } from "../monitoring/config";
import type { AdminActor } from "./actor";
import type { OperationContext } from "./context";
import type { alertsQuery } from "./schemas";
import { clock } from "../util/clock";

export type ListAlertsInput = z.output<typeof alertsQuery>;

/** One page of alerts, and the cursor of the next (null on the last page). */
export const listAlertsResult = z.object({ alerts: z.array(alertViewSchema), next_cursor: z.string().nullable() });
export type ListAlertsResult = z.output<typeof listAlertsResult>;

export async function listAlerts(
  ctx: OperationContext<AdminActor>,
  input: ListAlertsInput,
  config: MonitoringConfig,
): Promise<ListAlertsResult> {
  const now = clock.now();
  const rows = await findAlerts(
    ctx.env.DB,
    {
      keyId: input.key_id,
      consumerId: input.consumer_id,
      rule: input.rule,
      openOnly: input.status === "open",
      limit: input.limit + 1,
      before: input.cursor ? Number(input.cursor) : undefined,
    },
    now,
    config.dedupeMs,
  );
  const page = rows.slice(0, input.limit);
  const next = rows.length > input.limit ? String(page[page.length - 1]!.id) : null;
  return { alerts: page.map((r) => toAlertObject(r, now, config.dedupeMs)), next_cursor: next };
}
