/**
 * The Worker's own routes: health, the admin API and webhooks (the reserved paths; see `isReservedPath`).
 * Every other path goes to the gateway, which the entry calls directly. Errors are turned into
 * problem+json in one place, without their messages.
 */
import { Hono } from "hono";
import { adminRoutes } from "./admin/routes";
import { problem, ProblemError } from "./http/problem";
import { webhookRoutes } from "./leaks/routes";

export type AppEnv = { Bindings: Cloudflare.Env; Variables: { requestId: string } };

export const app = new Hono<AppEnv>();

app.use(async function requestId(c, next) {
  c.set("requestId", crypto.randomUUID());
  await next();
});

app.get("/healthz", (c) => c.json({ status: "ok" }, 200, { "Cache-Control": "no-store" }));
app.all("/healthz", (c) => problem("method_not_allowed", { requestId: c.get("requestId"), allow: "GET, HEAD" }));

app.route("/admin/v1", adminRoutes);
app.route("/webhooks", webhookRoutes);
// Reserved paths with nothing served there: never forwarded.
app.all("*", (c) => problem("not_found", { requestId: c.get("requestId") }));

app.onError(function toProblem(error, c) {
  const requestId = c.get("requestId") ?? crypto.randomUUID();
  if (error instanceof ProblemError) return problem(error.code, { ...error.options, requestId });
  // The message may hold SQL or a binding's internals: log only where it happened and what kind of error.
  console.error(`unhandled ${error.name} on ${c.req.method} ${new URL(c.req.url).pathname.slice(0, 64)}`);
  return problem("authorizer_unavailable", { requestId, retryAfterSeconds: 5 });
});
