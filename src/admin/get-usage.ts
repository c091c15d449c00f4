/**
 * GET /admin/v1/usage?from=&to=&consumer_id=&group_by=consumer&limit=&cursor= — every decision, keyed or
 * not (or one consumer's), per UTC day and outcome, or a page of consumers' figures; with
 * granularity=hour&hours= per UTC hour instead; and GET /admin/v1/keys/{id}/usage?from=&to= (or
 * ?granularity=hour&hours=) — one key's.
 */
import { validate } from "../http/json-body";
import { allUsageQuery, usageQuery } from "../operations/schemas";
import { getKeyUsage, getUsage } from "../operations/usage";
import { adminOperation, keyIdParam, type AdminContext } from "./context";

export function getUsageRoute(c: AdminContext) {
  return getUsage(adminOperation(c), validate(allUsageQuery, c.req.query()));
}

export function getKeyUsageRoute(c: AdminContext) {
  const id = keyIdParam(c);
  return getKeyUsage(adminOperation(c), id, validate(usageQuery, c.req.query()));
}
