/** GET /admin/v1/consumers/{id} — the consumer object. */
import { getConsumer } from "../operations/get-consumer";
import { adminOperation, consumerIdParam, type AdminContext } from "./context";

export function getConsumerRoute(c: AdminContext) {
  return getConsumer(adminOperation(c), consumerIdParam(c));
}
