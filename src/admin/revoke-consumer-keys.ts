/** POST /admin/v1/consumers/{id}/revoke-keys — every key of the consumer refused at once (no body, or `{ reason }`). */
import { revokeConsumerKeys } from "../operations/revoke-consumer-keys";
import { revokeKeySchema } from "../operations/schemas";
import { readJson } from "./read-request";
import { adminOperation, consumerIdParam, type AdminContext } from "./context";

export async function revokeConsumerKeysRoute(c: AdminContext) {
  const id = consumerIdParam(c);
  return revokeConsumerKeys(adminOperation(c), id, await readJson(c.req.raw, revokeKeySchema, { emptyAllowed: true }));
}
