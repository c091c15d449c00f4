/**
 * The admin API under /admin/v1, every route behind the admin credential. The table in ./operations.ts
 * lists each route once, with its handler and schemas; the OpenAPI document is generated from it.
 */
import { Hono } from "hono";
import type { AppEnv } from "../http/context";
import { problem, ProblemError } from "../http/problem";
import { grantOf } from "../operations/actor";
import { adminAuth, type AdminVariables } from "./auth";
import { adminJson, type AdminContext } from "./context";
import { OPERATIONS, openApiDocument, type Operation } from "./operations";

export const adminRoutes = new Hono<AppEnv & { Variables: AdminVariables }>();

adminRoutes.use(adminAuth());
const routePath = (path: string) => path.replaceAll(/\{(\w+)\}/g, ":$1");
/**
 * Runs the operation's handler, if the principal holds what it needs, and answers its result as its schema
 * shapes it (a Response passes as it is).
 */
function answering(op: Operation) {
  return async function answer(c: AdminContext): Promise<Response> {
    const grant = grantOf(c.get("adminActor"));
    if (!grant.permissions.includes(op.permission)) {
      throw new ProblemError("forbidden_operation", { extra: { detail: `needs the ${op.permission} permission` } });
    }
    if (grant.consumers !== null && !op.consumerScoped) {
      throw new ProblemError("forbidden_operation", {
        extra: { detail: "needs a principal not limited to consumers" },
      });
    }
    const result = await op.handler(c);
    if (result instanceof Response) return result;
    return adminJson(c, op.success.result.parse(result), op.success.status);
  };
}
for (const op of OPERATIONS) adminRoutes.on(op.method, routePath(op.path), answering(op));
adminRoutes.get("/openapi.json", (c) => c.json(openApiDocument(), 200, { "Cache-Control": "no-store" }));

// A served path asked with another method: 405 with the methods it does serve (never a method override).
const methodsByPath = new Map<string, string[]>([["/openapi.json", ["GET"]]]);
for (const op of OPERATIONS) methodsByPath.set(op.path, [...(methodsByPath.get(op.path) ?? []), op.method]);
for (const [path, methods] of methodsByPath) {
  const allow = (methods.includes("GET") ? [...methods, "HEAD"] : methods).join(", ");
  adminRoutes.all(routePath(path), (c) => problem("method_not_allowed", { requestId: c.get("requestId"), allow }));
}
adminRoutes.all("*", (c) => problem("not_found", { requestId: c.get("requestId") }));
