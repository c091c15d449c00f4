/** The scope of a request of the app (an admin route or a webhook), for the operations it calls. */
import type { Context } from "hono";
import type { AppEnv, RequestScope } from "./context";

export function requestScope<E extends AppEnv>(c: Context<E>): RequestScope {
  // waitUntil is read when called: a request without an execution context fails only if it defers work.
  return { env: c.env, requestId: c.var.requestId, waitUntil: (p) => c.executionCtx.waitUntil(p) };
}
