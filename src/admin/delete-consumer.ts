/** DELETE /admin/v1/consumers/{id} — marks a consumer whose keys are all revoked deleted; answers it. */
import { deleteConsumer } from "../operations/delete-consumer";
import { emptyBodySchema } from "../operations/schemas";
import { readJson } from "./read-request";
import { adminOperation, consumerIdParam, type AdminContext } from "./context";

export async function deleteConsumerRoute(c: AdminContext) {
  const id = consumerIdParam(c);
  await readJson(c.req.raw, emptyBodySchema, { emptyAllowed: true });
  return deleteConsumer(adminOperation(c), id);
}
