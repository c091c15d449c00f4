/** GET /admin/v1/credentials?limit=&cursor= — the admin credentials, newest first. */
import { listCredentials } from "../operations/list-credentials";
import { listCredentialsQuery } from "../operations/schemas";
import { readQuery } from "./read-request";
import { adminOperation, type AdminContext } from "./context";

export function listCredentialsRoute(c: AdminContext) {
  return listCredentials(adminOperation(c), readQuery(c.req.url, listCredentialsQuery));
}
