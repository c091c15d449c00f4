/** GET /admin/v1/leaks?key_id=&limit=&cursor= — leak events, newest first, with the time to revocation. */
import { validate } from "../http/json-body";
import { listLeakEvents } from "../operations/list-leak-events";
import { listLeakEventsQuery } from "../operations/schemas";
import { adminOperation, type AdminContext } from "./context";

export function listLeakEventsRoute(c: AdminContext) {
  return listLeakEvents(adminOperation(c), validate(listLeakEventsQuery, c.req.query()));
}
