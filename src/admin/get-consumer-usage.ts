/**
 * GET /admin/v1/consumers/{id}/usage?from=&to= (or ?granularity=hour&hours=) — one consumer's decisions (all
 * its keys') per UTC day (or hour) and outcome, shaped as a key's usage. Its query is read strictly: a parameter given twice is 400.
 */
import { usageQuery } from "../operations/schemas";
import { getConsumerUsage } from "../operations/usage";
import { adminOperation, consumerIdParam, type AdminContext } from "./context";
import { readQuery } from "./read-request";

export function getConsumerUsageRoute(c: AdminContext) {
  const id = consumerIdParam(c);
  return getConsumerUsage(adminOperation(c), id, readQuery(c.req.url, usageQuery));
}
