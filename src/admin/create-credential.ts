/** POST /admin/v1/credentials — mints a scoped admin credential. The secret is in this one response only. */
import { createCredential } from "../operations/create-credential";
import { createCredentialSchema } from "../operations/schemas";
import { readJson } from "./read-request";
import { adminConfig, adminOperation, type AdminContext } from "./context";

export async function createCredentialRoute(c: AdminContext) {
  const { vendor } = adminConfig(c);
  return createCredential(adminOperation(c), await readJson(c.req.raw, createCredentialSchema), vendor);
}
