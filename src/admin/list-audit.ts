/** GET /admin/v1/audit?key_id=&consumer_id=&limit=&cursor= — every change to a key or a consumer, newest first. */
import { listAudit } from "../operations/list-audit";
import { listAuditQuery } from "../operations/schemas";
import { readQuery } from "./read-request";
import { adminOperation, type AdminContext } from "./context";

export function listAuditRoute(c: AdminContext) {
  return listAudit(adminOperation(c), readQuery(c.req.url, listAuditQuery));
}
