/** POST /admin/v1/keys/{id}/revoke — revokes a key everywhere, for good (no body, or `{ reason }`). */
import { revokeKey } from "../operations/revoke-key";
import { revokeKeySchema } from "../operations/schemas";
import { readJson } from "./read-request";
import { adminOperation, keyIdParam, type AdminContext } from "./context";

export async function revokeKeyRoute(c: AdminContext) {
  const id = keyIdParam(c);
  return revokeKey(adminOperation(c), id, await readJson(c.req.raw, revokeKeySchema, { emptyAllowed: true }));
}
