/** POST /admin/v1/keys — mints a key. The plaintext is in this one response and nowhere else, ever. */
import { createKey } from "../operations/create-key";
import { createKeySchema } from "../operations/schemas";
import { readJson } from "./read-request";
import { adminConfig, adminOperation, type AdminContext } from "./context";

export async function createKeyRoute(c: AdminContext) {
  const config = adminConfig(c);
  return createKey(adminOperation(c), await readJson(c.req.raw, createKeySchema), config);
}
