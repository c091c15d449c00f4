/** GET /admin/v1/credentials/{id} — one admin credential (never its secret). */
import { getCredential } from "../operations/get-credential";
import { adminOperation, type AdminContext } from "./context";

export function getCredentialRoute(c: AdminContext) {
  return getCredential(adminOperation(c), c.req.param("id") ?? "");
}
