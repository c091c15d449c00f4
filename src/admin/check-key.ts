/**
 * POST /admin/v1/keys/check — what the gateway would answer a request with this key, nothing spent or
 * counted. Limited per admin principal before the body is read (429 `rate_limited`); the body holds a key,
 * so nothing of it is logged: the request log names no key id and no action for this route.
 */
import { limitLeakRoute } from "../leaks/route-limit";
import { actorName } from "../operations/actor";
import { checkKey } from "../operations/check-key";
import { checkKeySchema } from "../operations/schemas";
import { clock } from "../util/clock";
import { adminConfig, adminOperation, type AdminContext } from "./context";
import { readJson } from "./read-request";

export async function checkKeyRoute(c: AdminContext) {
  const ctx = adminOperation(c);
  limitLeakRoute("check", actorName(ctx.actor), clock.now());
  const config = adminConfig(c);
  return checkKey(ctx, await readJson(c.req.raw, checkKeySchema), config);
}
