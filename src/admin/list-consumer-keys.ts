/** GET /admin/v1/consumers/{id}/keys?status=&environment=&q=&limit=&cursor= — the consumer's keys, as GET /keys lists them. */
import { listConsumerKeys } from "../operations/list-consumer-keys";
import { listConsumerKeysQuery } from "../operations/schemas";
import { readQuery } from "./read-request";
import { adminOperation, consumerIdParam, type AdminContext } from "./context";

export function listConsumerKeysRoute(c: AdminContext) {
  const id = consumerIdParam(c);
  return listConsumerKeys(adminOperation(c), id, readQuery(c.req.url, listConsumerKeysQuery));
}
