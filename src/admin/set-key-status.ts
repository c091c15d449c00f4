/** POST /admin/v1/keys/{id}/disable and /enable (no body, or `{}`). */
import { emptyBodySchema } from "../operations/schemas";
import { disableKey, enableKey } from "../operations/set-key-status";
import { readJson } from "./read-request";
import { adminOperation, keyIdParam, type AdminContext } from "./context";

function statusRoute(operation: typeof disableKey) {
  return async function setKeyStatusRoute(c: AdminContext) {
    const id = keyIdParam(c);
    await readJson(c.req.raw, emptyBodySchema, { emptyAllowed: true });
    return operation(adminOperation(c), id);
  };
}

export const disableKeyRoute = statusRoute(disableKey);
export const enableKeyRoute = statusRoute(enableKey);
