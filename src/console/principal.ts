/**
 * Who a console session acts as, and what it may do. Two ways in, the admin API's two credentials:
 * - the admin token, typed into the sign-in form (when CONSOLE_TOKEN_SIGNIN is on). The session keeps a
 *   fingerprint of the token it was opened with (a prefix of an HMAC keyed by the token, never the token),
 *   so rotating ADMIN_TOKEN ends every session opened with the old one at its next request;
 * - Cloudflare Access: the JWT of the admin API's check, on the request itself, at sign-in and on every
 *   request after (its email must stay the session's).
 * The actor is the admin API's (`ADMIN_TOKEN`, `ADMIN_TOKEN_NEXT` or the Access email), so the audit rows of
 * a change made here name the same principal as one made through the API.
 */
import { verifyAccessJwt } from "../admin/access";
import { accessConfig } from "../admin/auth";
import { ADMIN_PERMISSIONS, type AdminPermission } from "../admin/permissions";
import { ProblemError } from "../http/problem";
import type { AdminActor } from "../operations/actor";
import { hmacSha256Hex, secretsEqual } from "../util/secrets";
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

/** The actor of a presented admin token (compared in constant time with both), or null. */
export async function tokenSignIn(env: Cloudflare.Env, presented: string): Promise<AdminActor | null> {
  if (presented === "" || !env.ADMIN_TOKEN) return null;
  const [current, next] = await Promise.all([
    secretsEqual(presented, env.ADMIN_TOKEN),
    env.ADMIN_TOKEN_NEXT ? secretsEqual(presented, env.ADMIN_TOKEN_NEXT) : Promise.resolve(false),
  ]);
  if (!current && !next) return null;
  return { kind: "admin_token", token: current ? "ADMIN_TOKEN" : "ADMIN_TOKEN_NEXT" };
}

/** The email of the request's valid Access JWT; null without Access, without a JWT, or with a bad one. */
export async function accessEmail(env: Cloudflare.Env, jwt: string | undefined): Promise<string | null> {
  let config: ReturnType<typeof accessConfig>;
  try {
    config = accessConfig(env);
  } catch (error) {
    if (error instanceof ProblemError) return null; // half configured: logged there; nobody gets in this way
    throw error;
  }
  if (!config || jwt === undefined) return null;
  return verifyAccessJwt(config, jwt);
}

/**
 * Whether a console session's credential still holds: a token session's token is still one of the admin
 * tokens, an Access session's request still carries that person's JWT.
 */
export async function credentialHolds(env: Cloudflare.Env, session: Session, accessJwt: string | undefined) {
  const actor = session.actor;
  if (actor.kind === "access") return (await accessEmail(env, accessJwt)) === actor.email;
  if (actor.kind !== "admin_token" || session.credentialFingerprint === null) return false;
  const tokens = [env.ADMIN_TOKEN, env.ADMIN_TOKEN_NEXT].filter((t): t is string => !!t);
  const prints = await Promise.all(tokens.map(tokenFingerprint));
  return prints.includes(session.credentialFingerprint);
}

const ALL_PERMISSIONS: ReadonlySet<AdminPermission> = new Set(ADMIN_PERMISSIONS);

/**
 * THE SEAM for scoped principals: what this actor may do in the console. Today the admin API gives both of
 * its credentials every permission (an Access identity is an admin), and so does the console. When the
 * ACCESS_POLICY mapping lands, this function answers the identity's permissions from it, and every page and
 * action here already asks for the permission its operation names in src/admin/operations.ts.
 */
export function principalOf(actor: AdminActor): ConsolePrincipal {
  return { actor, permissions: ALL_PERMISSIONS };
}
