/** GET /admin/v1/keys?owner_id=&status=&environment=&q=&limit=&cursor= — keys newest first, a page at a time. */
import { listKeys } from "../operations/list-keys";
import { listKeysQuery } from "../operations/schemas";
import { readQuery } from "./read-request";
import { adminOperation, type AdminContext } from "./context";

export function listKeysRoute(c: AdminContext) {
  return listKeys(adminOperation(c), readQuery(c.req.url, listKeysQuery));
}
