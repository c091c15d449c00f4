/**
 * The admin routes' gate. Two credentials open it:
 * - `Authorization: Bearer <token>` with ADMIN_TOKEN or, while the admin token itself is being rotated,
 *   ADMIN_TOKEN_NEXT (compared in constant time; each is recorded as the actor under its own name);
 * - a Cloudflare Access JWT in `Cf-Access-Jwt-Assertion`, when ACCESS_TEAM_DOMAIN and ACCESS_AUD are set
 *   (the actor is its email).
 * With neither configured the routes answer 503 and are never open; API keys never count.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../http/context";
import { presentedBearer } from "../http/authorization";
import { configUnavailable, ProblemError } from "../http/problem";
import { log } from "../util/log";
import { secretsEqual } from "../util/secrets";
import { hasCredentialInQuery } from "../verify/credential";
import { actorName, type AdminActor } from "../operations/actor";
import { verifyAccessJwt, type AccessConfig } from "./access";

/** The admin credential that opened the request, and its name (for the request log). */
export type AdminVariables = { actor: string; adminActor: AdminActor };

/** The Access settings: null when not configured; throws 503 when only half configured or malformed. */
export function accessConfig(env: Cloudflare.Env): AccessConfig | null {
  const team = env.ACCESS_TEAM_DOMAIN ?? "";
  const audience = env.ACCESS_AUD ?? "";
  if (team === "" && audience === "") return null;
  let origin = "";
  try {
    origin = new URL(team).origin;
  } catch {
    // reported below
  }
  if (audience === "" || !origin.startsWith("https://") || origin !== team.replace(/\/$/, "")) {
    // Both must be set, the domain as https://<team>.cloudflareaccess.com.
    log("error", "admin.access_config_invalid", {
      degraded: "config_invalid",
      setting: "ACCESS_TEAM_DOMAIN, ACCESS_AUD",
    });
    throw configUnavailable();
  }
  return { teamDomain: origin, audience };
}

async function tokenActor(env: Cloudflare.Env, authorization: string | undefined): Promise<AdminActor | null> {
  const presented = presentedBearer(authorization);
  if (presented === "" || !env.ADMIN_TOKEN) return null;
  // Both comparisons always run, so timing does not tell which token matched.
  const [current, next] = await Promise.all([
    secretsEqual(presented, env.ADMIN_TOKEN),
    env.ADMIN_TOKEN_NEXT ? secretsEqual(presented, env.ADMIN_TOKEN_NEXT) : Promise.resolve(false),
  ]);
  if (!current && !next) return null;
  return { kind: "admin_token", token: current ? "ADMIN_TOKEN" : "ADMIN_TOKEN_NEXT" };
}

export function adminAuth(): MiddlewareHandler<AppEnv & { Variables: AdminVariables }> {
  return async function adminAuthMiddleware(c, next) {
    if (hasCredentialInQuery(new URL(c.req.url), c.env.KEY_VENDOR_PREFIX ?? "")) throw new ProblemError("key_in_query");
    const access = accessConfig(c.env);
    if (!c.env.ADMIN_TOKEN && !access) {
      log("error", "admin.unconfigured", {
        request_id: c.get("requestId"),
        degraded: "admin_auth_unconfigured",
        setting: "ADMIN_TOKEN",
      });
      throw configUnavailable();
    }
    const jwt = c.req.header("Cf-Access-Jwt-Assertion");
    const email = access && jwt !== undefined ? await verifyAccessJwt(access, jwt) : undefined;
    const actor: AdminActor | null =
      email === undefined
        ? await tokenActor(c.env, c.req.header("Authorization"))
        : email === null
          ? null
          : { kind: "access", email };
    if (actor === null) throw new ProblemError("admin_unauthorized");
    c.set("adminActor", actor);
    c.set("actor", actorName(actor));
    await next();
  };
}
