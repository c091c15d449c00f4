/**
 * The admin routes' gate. Only `Authorization: Bearer <ADMIN_TOKEN>` opens it, compared in constant time.
 * With no ADMIN_TOKEN configured the routes answer 503 and are never open; API keys never count.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app";
import { ProblemError } from "../http/problem";
import { secretsEqual } from "../util/secrets";
import { hasCredentialInQuery } from "../verify/credential";

export type AdminVariables = { actor: string };

export function adminAuth(): MiddlewareHandler<AppEnv & { Variables: AdminVariables }> {
  return async function adminAuthMiddleware(c, next) {
    if (hasCredentialInQuery(new URL(c.req.url))) throw new ProblemError("key_in_query");
    const expected = c.env.ADMIN_TOKEN;
    if (!expected) {
      console.error("admin: ADMIN_TOKEN is not configured; admin routes answer 503");
      throw new ProblemError("authorizer_unavailable", { retryAfterSeconds: 60 });
    }
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(c.req.header("Authorization") ?? "");
    if (!match || !(await secretsEqual(match[1]!, expected))) throw new ProblemError("admin_unauthorized");
    c.set("actor", "ADMIN_TOKEN");
    await next();
  };
}
