/**
 * The Worker's own routes: health, the admin API and webhooks (the reserved paths, src/reserved-paths.ts).
 * Every other path goes to the gateway, which the entry calls directly. Errors are turned into
 * problem+json in one place, without their messages.
 */
import { Hono } from "hono";
import { adminRoutes } from "./admin/router";
import type { AppEnv } from "./http/context";
import { problem, ProblemError } from "./http/problem";
import { webhookRoutes } from "./webhooks/router";
import { requestLog } from "./http/request-log";
import { ADMIN_PREFIX, HEALTH_PATH, WEBHOOKS_PREFIX } from "./reserved-paths";
import { log } from "./util/log";

export const app = new Hono<AppEnv>();

app.use(async function requestId(c, next) {
  c.set("requestId", crypto.randomUUID());
  await next();
});
app.use(requestLog());

app.get(HEALTH_PATH, (c) => c.json({ status: "ok" }, 200, { "Cache-Control": "no-store" }));
app.all(HEALTH_PATH, (c) => problem("method_not_allowed", { requestId: c.get("requestId"), allow: "GET, HEAD" }));

app.route(`${ADMIN_PREFIX}/v1`, adminRoutes);
app.route(WEBHOOKS_PREFIX, webhookRoutes);
// Reserved paths with nothing served there: never forwarded.
app.all("*", (c) => problem("not_found", { requestId: c.get("requestId") }));

app.onError(function toProblem(error, c) {
  const requestId = c.get("requestId") ?? crypto.randomUUID();
  if (error instanceof ProblemError) return problem(error.code, { ...error.options, requestId });
  // The message may hold SQL or a binding's internals: log only what kind of error it was. D1's errors are
  // the one kind told apart (their messages start "D1_"), so the line names the degraded mode.
  const degraded = /^D1_/.test(error.message) ? "d1_unavailable" : undefined;
  log("error", "unhandled_error", { request_id: requestId, method: c.req.method, error: error.name, degraded });
  return problem("authorizer_unavailable", { requestId, retryAfterSeconds: 5 });
});
