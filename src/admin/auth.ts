/**
 * The admin routes' gate. `Authorization: Bearer <token>` opens it when the token is ADMIN_TOKEN or, while
 * the admin token itself is being rotated, ADMIN_TOKEN_NEXT (compared in constant time; each is recorded as
 * the actor under its own name). With no ADMIN_TOKEN configured the routes answer 503 and are never open;
 * API keys never count.
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
    const presented = match?.[1];
    let actor: string | null = null;
    if (presented !== undefined) {
      // Both comparisons always run, so timing does not tell which token matched.
      const [current, next] = await Promise.all([
        secretsEqual(presented, expected),
        c.env.ADMIN_TOKEN_NEXT ? secretsEqual(presented, c.env.ADMIN_TOKEN_NEXT) : Promise.resolve(false),
      ]);
      actor = current ? "ADMIN_TOKEN" : next ? "ADMIN_TOKEN_NEXT" : null;
    }
    if (actor === null) throw new ProblemError("admin_unauthorized");
    c.set("actor", actor);
    await next();
  };
}
