/** GET /admin/v1/alerts?status=open|all&key_id=&consumer_id=&rule=&limit=&cursor= — anomaly alerts, newest first. */
import { validate } from "../http/json-body";
import { listAlerts } from "../operations/list-alerts";
import { alertsQuery } from "../operations/schemas";
import { adminOperation, monitoringConfig, type AdminContext } from "./context";

export function listAlertsRoute(c: AdminContext) {
  const query = validate(alertsQuery, c.req.query());
  return listAlerts(adminOperation(c), query, monitoringConfig(c));
}
