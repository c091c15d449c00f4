/** GET /admin/v1/audit?key_id=&limit=&cursor= — every key mutation, newest first. */
import { findAuditPage } from "../keys/audit-log";
import { invalidField } from "../http/json-body";
import { readQuery } from "./read-request";
import { adminJson, type AdminContext } from "./context";
import { listAuditQuery } from "./schemas";

export async function listAudit(c: AdminContext): Promise<Response> {
  const query = readQuery(c.req.url, listAuditQuery);
  let cursor: number | undefined;
  if (query.cursor !== undefined) {
    if (!/^[1-9][0-9]{0,15}$/.test(query.cursor)) throw invalidField("cursor", "not a cursor from a previous page");
    cursor = Number(query.cursor);
  }
  const { entries, nextCursor } = await findAuditPage(c.env.DB, { keyId: query.key_id, limit: query.limit, cursor });
  return adminJson(c, { entries, next_cursor: nextCursor === null ? null : String(nextCursor) });
}
