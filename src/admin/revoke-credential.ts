/** POST /admin/v1/credentials/{id}/revoke — revokes an admin credential, at once (no body, or `{ reason }`). */
import { revokeCredential } from "../operations/revoke-credential";
import { revokeKeySchema } from "../operations/schemas";
import { readJson } from "./read-request";
import { adminOperation, type AdminContext } from "./context";

export async function revokeCredentialRoute(c: AdminContext) {
  const id = c.req.param("id") ?? "";
  return revokeCredential(adminOperation(c), id, await readJson(c.req.raw, revokeKeySchema, { emptyAllowed: true }));
}
