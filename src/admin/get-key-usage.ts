/** GET /admin/v1/keys/{id}/usage?from=&to= — one key's decisions per UTC day and outcome. */
import { readUsage } from "../monitoring/usage-store";
import { adminJson, findKeyOr404, keyIdParam, type AdminContext } from "./context";
import { usageRange } from "./get-usage";

export async function getKeyUsage(c: AdminContext): Promise<Response> {
  const id = keyIdParam(c);
  const range = usageRange(c);
  await findKeyOr404(c, id);
  return adminJson(c, { key_id: id, ...(await readUsage(c.env.DB, { ...range, keyId: id })) });
}
