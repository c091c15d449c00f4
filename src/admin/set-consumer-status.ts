/** POST /admin/v1/consumers/{id}/disable and /enable (no body, or `{}`). */
import { emptyBodySchema } from "../operations/schemas";
import { disableConsumer, enableConsumer } from "../operations/set-consumer-status";
import { readJson } from "./read-request";
import { adminOperation, consumerIdParam, type AdminContext } from "./context";

function statusRoute(operation: typeof disableConsumer) {
  return async function setConsumerStatusRoute(c: AdminContext) {
    const id = consumerIdParam(c);
    await readJson(c.req.raw, emptyBodySchema, { emptyAllowed: true });
    return operation(adminOperation(c), id);
  };
}

export const disableConsumerRoute = statusRoute(disableConsumer);
export const enableConsumerRoute = statusRoute(enableConsumer);
