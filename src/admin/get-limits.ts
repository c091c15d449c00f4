/** GET /admin/v1/keys/{id}/limits and /consumers/{id}/limits — remaining limits, read without spending. */
import { getConsumerLimits, getKeyLimits } from "../operations/get-limits";
import { adminOperation, consumerIdParam, keyIdParam, type AdminContext } from "./context";

export function getKeyLimitsRoute(c: AdminContext) {
  return getKeyLimits(adminOperation(c), keyIdParam(c));
}

export function getConsumerLimitsRoute(c: AdminContext) {
  return getConsumerLimits(adminOperation(c), consumerIdParam(c));
}
