/**
 * Who a console session acts as, and what it may do: the admin API's own principals, so the console can do
 * nothing the API would not let the same person do.
 * - The admin token, typed into the sign-in form (when CONSOLE_TOKEN_SIGNIN is on): every permission. The
 *   session keeps a fingerprint of the token it was opened with (a prefix of an HMAC keyed by the token,
 *   never the token), so rotating ADMIN_TOKEN ends every session opened with the old one at its next request.
 * - Cloudflare Access: the JWT of the admin API's check, on every request (Access sits in front of the
 *   console's host), its identity mapped by ACCESS_POLICY to a grant (src/admin/access-policy.ts) afresh each
 *   time, so a policy change applies at once; the identity must stay the one the session was opened for.
 * The actor is the admin API's (`ADMIN_TOKEN`, `access:<email>`), so the audit rows of a change made here
 * name the same principal as one made through the API.
 */
import { verifyAccessJwt } from "../admin/access";
import { accessActor, accessConfig } from "../admin/auth";
import { ProblemError } from "../http/problem";
import { type AdminActor, actorName, grantOf } from "../operations/actor";
import type { AdminPermission } from "../operations/permissions";
import { hmacSha256Hex } from "../util/secrets";
import type { Session } from "./session-store";

export interface ConsolePrincipal {
  actor: AdminActor;
  permissions: ReadonlySet<AdminPermission>;
}

/** Hex digits of the HMAC kept: 64 bits tell tokens apart and say nothing about them. */
const FINGERPRINT_HEX = 16;

/** What a session records of the admin token it was opened with. */
export async function tokenFingerprint(token: string): Promise<string> {
  return (await hmacSha256Hex(token, "console-session-v1")).slice(0, FINGERPRINT_HEX);
}

/**
 * The actor of the request's Access JWT with its grant from ACCESS_POLICY; null without Access configured,
 * without a JWT, with a bad one, or for an identity the policy does not name (the admin API's 403).
 */
export async function accessSignIn(env: Cloudflare.Env, jwt: string | undefined): Promise<AdminActor | null> {
  try {
    const config = accessConfig(env);
    if (!config || jwt === undefined) return null;
    const identity = await verifyAccessJwt(config, jwt);
    return identity ? accessActor(env, identity) : null;
  } catch (error) {
    // Half-configured Access or a malformed ACCESS_POLICY (logged there), or an identity not in the policy.
    if (error instanceof ProblemError) return null;
    throw error;
  }
}

/**
 * The session's actor as of this request, or null when its credential no longer holds: a token session's
 * token is no longer an admin token, an Access session's request no longer carries that identity's JWT.
 */
export async function currentActor(
  env: Cloudflare.Env,
  session: Session,
  accessJwt: string | undefined,
): Promise<AdminActor | null> {
  const actor = session.actor;
  if (actor.kind === "access" || actor.kind === "access_service") {
    const now = await accessSignIn(env, accessJwt);
    return now !== null && actorName(now) === actorName(actor) ? now : null;
  }
  if (actor.kind !== "admin_token" || session.credentialFingerprint === null) return null;
  const tokens = [env.ADMIN_TOKEN, env.ADMIN_TOKEN_NEXT].filter((t): t is string => !!t);
  const prints = await Promise.all(tokens.map(tokenFingerprint));
  return prints.includes(session.credentialFingerprint) ? actor : null;
}

/** What the actor may do in the console: exactly its admin grant's permissions. */
export function principalOf(actor: AdminActor): ConsolePrincipal {
  return { actor, permissions: new Set(grantOf(actor).permissions) };
}
