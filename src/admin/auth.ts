/**
 * The admin routes' gate: who is calling. Three kinds of principal open it:
 * - `Authorization: Bearer <token>` with ADMIN_TOKEN or, while the admin token itself is being rotated,
 *   ADMIN_TOKEN_NEXT (compared in constant time; each is recorded as the actor under its own name): every
 *   permission;
 * - `Authorization: Bearer <vendor>_ak_…`, a scoped admin credential (src/credentials/), looked up by its
 *   hash in D1 on every request, so a revoked or expired one is refused at once: its own permissions;
 * - a Cloudflare Access JWT in `Cf-Access-Jwt-Assertion`, when ACCESS_TEAM_DOMAIN and ACCESS_AUD are set: the
 *   permissions ACCESS_POLICY maps its email or service token to (./access-policy.ts); none → 403.
 * With no admin token and no Access configured the routes answer 503 and are never open; API keys never count.
 * What each route needs is checked by the router against the operation table.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../http/context";
import { presentedBearer } from "../http/authorization";
import { configUnavailable, ProblemError } from "../http/problem";
import { credentialIsLive } from "../credentials/credential-record";
import { findCredentialByHash, touchCredential } from "../credentials/store";
import { parseCredential } from "../keys/format";
import { sha256Hex } from "../keys/hash";
import { clock } from "../util/clock";
import { log } from "../util/log";
import { secretsEqual } from "../util/secrets";
import { hasCredentialInQuery } from "../verify/credential";
import { actorName, type AdminActor } from "../operations/actor";
import { verifyAccessJwt, type AccessConfig, type AccessIdentity } from "./access";
import { grantFor, parseAccessPolicy } from "./access-policy";

/** The admin principal that opened the request, and its name (for the request log). */
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

/** The admin token's actor if `presented` is ADMIN_TOKEN or ADMIN_TOKEN_NEXT, else null (also the console's sign-in). */
export async function tokenActor(env: Cloudflare.Env, presented: string): Promise<AdminActor | null> {
  if (presented === "" || !env.ADMIN_TOKEN) return null;
  // Both comparisons always run, so timing does not tell which token matched.
  const [current, next] = await Promise.all([
    secretsEqual(presented, env.ADMIN_TOKEN),
    env.ADMIN_TOKEN_NEXT ? secretsEqual(presented, env.ADMIN_TOKEN_NEXT) : Promise.resolve(false),
  ]);
  if (!current && !next) return null;
  return { kind: "admin_token", token: current ? "ADMIN_TOKEN" : "ADMIN_TOKEN_NEXT" };
}

/**
 * The live credential this secret is, or null. Found by the SHA-256 of the secret (the stored form), so no
 * secret is compared; a string not of the credential grammar is refused without a read.
 */
async function credentialActor(env: Cloudflare.Env, presented: string, now: number): Promise<AdminActor | null> {
  if (!parseCredential(presented, env.KEY_VENDOR_PREFIX ?? "")) return null;
  const record = await findCredentialByHash(env.DB, await sha256Hex(presented));
  if (!record || !credentialIsLive(record, now)) return null;
  return {
    kind: "credential",
    id: record.id,
    grant: { permissions: record.permissions, consumers: record.consumers },
    expiresAt: record.expires_at,
  };
}

/** The Access identity's actor with its grant from ACCESS_POLICY; 403 when the policy does not name it. */
export function accessActor(env: Cloudflare.Env, identity: AccessIdentity): AdminActor {
  const policy = parseAccessPolicy(env.ACCESS_POLICY ?? "");
  if (!policy) {
    log("error", "admin.access_policy_invalid", { degraded: "config_invalid", setting: "ACCESS_POLICY" });
    throw configUnavailable();
  }
  const grant = grantFor(policy, identity);
  if (!grant)
    throw new ProblemError("forbidden_operation", { extra: { detail: "ACCESS_POLICY does not name this identity" } });
  return "email" in identity
    ? { kind: "access", email: identity.email, grant }
    : { kind: "access_service", commonName: identity.commonName, grant };
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
    const now = clock.now();
    const jwt = c.req.header("Cf-Access-Jwt-Assertion");
    let actor: AdminActor | null;
    if (access && jwt !== undefined) {
      const identity = await verifyAccessJwt(access, jwt, now);
      actor = identity ? accessActor(c.env, identity) : null;
    } else {
      const presented = presentedBearer(c.req.header("Authorization"));
      actor =
        presented === ""
          ? null
          : ((await credentialActor(c.env, presented, now)) ?? (await tokenActor(c.env, presented)));
    }
    if (actor === null) throw new ProblemError("admin_unauthorized");
    c.set("adminActor", actor);
    c.set("actor", actorName(actor));
    if (actor.kind === "credential") c.executionCtx.waitUntil(touchCredential(c.env.DB, actor.id, now));
    await next();
  };
}
