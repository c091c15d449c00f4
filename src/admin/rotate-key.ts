/** POST /admin/v1/keys/{id}/rotate — mints a successor; the key works until its grace end. */
import { rotateKey } from "../operations/rotate-key";
import { rotateKeySchema } from "../operations/schemas";
import { readJson } from "./read-request";
import { adminConfig, adminOperation, keyIdParam, type AdminContext } from "./context";

export async function rotateKeyRoute(c: AdminContext) {
  const config = adminConfig(c);
  const id = keyIdParam(c);
  return rotateKey(adminOperation(c), id, await readJson(c.req.raw, rotateKeySchema, { emptyAllowed: true }), config);
}
