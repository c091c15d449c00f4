/** GET /admin/v1/consumers?id=&status=&limit=&cursor= — consumers newest first, a page at a time. */
import { listConsumers } from "../operations/list-consumers";
import { listConsumersQuery } from "../operations/schemas";
import { readQuery } from "./read-request";
import { adminOperation, type AdminContext } from "./context";

export function listConsumersRoute(c: AdminContext) {
  return listConsumers(adminOperation(c), readQuery(c.req.url, listConsumersQuery));
}
