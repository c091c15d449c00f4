/**
 * GET /admin/v1/consumers/{id}/usage?from=&to= — one consumer's decisions (all its keys') per UTC day and
 * outcome, shaped as a key's usage. Its query is read strictly: a parameter given twice is 400.
 */
import { ProblemError } from "../http/problem";
import { CONSUMER_ID_PATTERN, usageQuery } from "../operations/schemas";
import { getConsumerUsage } from "../operations/usage";
import { adminOperation, type AdminContext } from "./context";
import { readQuery } from "./read-request";

/** The `{id}` path parameter; an id that no consumer can have in a path (`.`, `..`, beyond the grammar) is not found. */
function consumerIdParam(c: AdminContext): string {
  const id = c.req.param("id") ?? "";
  if (!CONSUMER_ID_PATTERN.test(id)) throw new ProblemError("consumer_not_found");
  return id;
}

export function getConsumerUsageRoute(c: AdminContext) {
  const id = consumerIdParam(c);
  return getConsumerUsage(adminOperation(c), id, readQuery(c.req.url, usageQuery));
}
