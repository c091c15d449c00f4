/** GET /admin/v1/alerts?status=open|all&key_id=&rule=&limit=&cursor= — anomaly alerts, newest first. */
import { validate } from "../http/json-body";
import { findAlerts, toAlertObject } from "../monitoring/alerts";
import { adminJson, monitoringConfig, type AdminContext } from "./context";
import { alertsQuery } from "./schemas";
import { clock } from "../util/clock";

export async function listAlerts(c: AdminContext): Promise<Response> {
  const query = validate(alertsQuery, c.req.query());
  const config = monitoringConfig(c);
  const now = clock.now();
  const rows = await findAlerts(
    c.env.DB,
    { keyId: query.key_id, rule: query.rule, openOnly: query.status === "open", limit: query.limit + 1, before: query.cursor ? Number(query.cursor) : undefined },
    now,
    config.dedupeMs,
  );
  const page = rows.slice(0, query.limit);
  const next = rows.length > query.limit ? String(page[page.length - 1]!.id) : null;
  return adminJson(c, { alerts: page.map((r) => toAlertObject(r, now, config.dedupeMs)), next_cursor: next });
}
