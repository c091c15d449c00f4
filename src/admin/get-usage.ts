/**
 * GET /admin/v1/usage?from=&to= — every decision, keyed or not, per UTC day and outcome; and
 * GET /admin/v1/keys/{id}/usage?from=&to= — one key's.
 */
import { validate } from "../http/json-body";
import { usageQuery } from "../operations/schemas";
import { getKeyUsage, getUsage } from "../operations/usage";
import { adminOperation, keyIdParam, type AdminContext } from "./context";

export function getUsageRoute(c: AdminContext) {
  return getUsage(adminOperation(c), validate(usageQuery, c.req.query()));
}

export function getKeyUsageRoute(c: AdminContext) {
  const id = keyIdParam(c);
  return getKeyUsage(adminOperation(c), id, validate(usageQuery, c.req.query()));
}
