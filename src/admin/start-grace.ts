/** POST /admin/v1/keys/{id}/start-grace — starts the grace of a key rotated with `defer_grace`. */
import { startGraceSchema } from "../operations/schemas";
import { startGrace } from "../operations/start-grace";
import { readJson } from "./read-request";
import { adminOperation, keyIdParam, type AdminContext } from "./context";

export async function startGraceRoute(c: AdminContext) {
  const id = keyIdParam(c);
  return startGrace(adminOperation(c), id, await readJson(c.req.raw, startGraceSchema, { emptyAllowed: true }));
}
