/** GET /admin/v1/keys/{id} — the key object. */
import { getKey } from "../operations/get-key";
import { adminOperation, keyIdParam, type AdminContext } from "./context";

export function getKeyRoute(c: AdminContext) {
  return getKey(adminOperation(c), keyIdParam(c));
}
