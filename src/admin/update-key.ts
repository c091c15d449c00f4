/** PATCH /admin/v1/keys/{id} — changes a key's settings; answers the key object. */
import { updateKeySchema } from "../operations/schemas";
import { updateKey } from "../operations/update-key";
import { readJson } from "./read-request";
import { adminConfig, adminOperation, keyIdParam, type AdminContext } from "./context";

export async function updateKeyRoute(c: AdminContext) {
  const config = adminConfig(c);
  const id = keyIdParam(c);
  return updateKey(adminOperation(c), id, await readJson(c.req.raw, updateKeySchema), config);
}
