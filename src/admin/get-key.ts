/** GET /admin/v1/keys/{id} — the key object. */
import { toKeyView } from "../keys/key-record";
import { clock } from "../util/clock";
import { adminJson, findKeyOr404, keyIdParam, type AdminContext } from "./context";

export async function getKey(c: AdminContext): Promise<Response> {
  const { record } = await findKeyOr404(c, keyIdParam(c));
  return adminJson(c, toKeyView(record, clock.now()));
}
