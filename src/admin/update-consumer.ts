/** PATCH /admin/v1/consumers/{id} — changes a consumer's settings; answers the consumer object. */
import { updateConsumerSchema } from "../operations/schemas";
import { updateConsumer } from "../operations/update-consumer";
import { readJson } from "./read-request";
import { adminOperation, consumerIdParam, type AdminContext } from "./context";

export async function updateConsumerRoute(c: AdminContext) {
  const id = consumerIdParam(c);
  return updateConsumer(adminOperation(c), id, await readJson(c.req.raw, updateConsumerSchema));
}
