/** POST /admin/v1/consumers — creates a consumer with its shared limits and key policy. */
import { createConsumer } from "../operations/create-consumer";
import { createConsumerSchema } from "../operations/schemas";
import { readJson } from "./read-request";
import { adminOperation, type AdminContext } from "./context";

export async function createConsumerRoute(c: AdminContext) {
  return createConsumer(adminOperation(c), await readJson(c.req.raw, createConsumerSchema));
}
