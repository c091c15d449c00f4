/**
 * Who performs an operation. Every operation takes one; its name is what audit rows and log lines record.
 * The admin API's principals (the admin token, an Access user or service token, a scoped credential), the
 * gateway, the public webhooks and a consumer's portal session act; an operation that only some actors may
 * perform says so in its type.
 */
import { ADMIN_PERMISSIONS, type AdminPermission } from "./permissions";

/** The two admin tokens: ADMIN_TOKEN_NEXT is accepted beside ADMIN_TOKEN while the admin token is rotated. */
type AdminTokenName = "ADMIN_TOKEN" | "ADMIN_TOKEN_NEXT";

/** The public callbacks that report leaked keys. */
export type WebhookName = "github-secret-scanning" | "trufflehog-verify";

/** What a principal may do: its permissions, and the consumers it may act on (null: every consumer). */
export interface Grant {
  permissions: readonly AdminPermission[];
  consumers: readonly string[] | null;
}

/** Everything, on every consumer: the admin token's grant, and an Access identity mapped to `admin`. */
export const FULL_GRANT: Grant = { permissions: ADMIN_PERMISSIONS, consumers: null };

export type Actor =
  /** A caller of the admin API with the admin token of this name: every permission. */
  | { kind: "admin_token"; token: AdminTokenName }
  /** A person admitted by a Cloudflare Access JWT, with the grant ACCESS_POLICY maps their email to. */
  | { kind: "access"; email: string; grant: Grant }
  /** An Access service token (its JWT's `common_name`), with the grant ACCESS_POLICY maps it to. */
  | { kind: "access_service"; commonName: string; grant: Grant }
  /** A scoped admin credential (src/credentials/). */
  | { kind: "credential"; id: string; grant: Grant; expiresAt: number }
  /** The gateway, recording a key it saw in a URL. */
  | { kind: "gateway" }
  /** A public webhook, after its own verification. */
  | { kind: "webhook"; name: WebhookName }
  /**
   * One consumer in its self-service portal (src/portal/), through the link `linkId` its platform opened:
   * the consumer's own keys only (PORTAL_GRANT), within its key policy.
   */
  | { kind: "portal"; consumerId: string; linkId: string };

/** The actors of the admin API. */
export type AdminActor = Extract<Actor, { kind: "admin_token" | "access" | "access_service" | "credential" }>;

export type PortalActor = Extract<Actor, { kind: "portal" }>;

/** The only actors that may create or change keys: the admin API's, and a consumer in its portal (its own keys). */
export type KeyActor = AdminActor | PortalActor;

/**
 * What a portal session may do, on its one consumer: read its keys, usage and trail, create, rotate and revoke
 * its keys. Never `consumers:write` (its own settings, limits and policy are its platform's) nor credentials.
 */
const PORTAL_PERMISSIONS = [
  "keys:read",
  "keys:create",
  "keys:rotate",
  "keys:revoke",
  "consumers:read",
  "usage:read",
  "audit:read",
] as const satisfies readonly AdminPermission[];

/** What an actor that may change keys may do. */
export function grantOf(actor: KeyActor): Grant {
  if (actor.kind === "admin_token") return FULL_GRANT;
  if (actor.kind === "portal") return { permissions: PORTAL_PERMISSIONS, consumers: [actor.consumerId] };
  return actor.grant;
}

/**
 * Whether the actor may act on this consumer. One outside a principal's consumers is answered as if it did
 * not exist (404), so a narrow credential cannot learn which consumers there are.
 */
export function mayActOn(actor: Actor, consumerId: string): boolean {
  if (actor.kind === "gateway" || actor.kind === "webhook") return true;
  const { consumers } = grantOf(actor);
  return consumers === null || consumers.includes(consumerId);
}

/** The consumers an actor is limited to, or null when it may act on every consumer. */
export const consumerScope = (actor: Actor): readonly string[] | null =>
  actor.kind === "gateway" || actor.kind === "webhook" ? null : grantOf(actor).consumers;

/**
 * The actor as audit rows and log lines name it. Each kind has its own form, so none can pose as another:
 * "ADMIN_TOKEN", "access:<email>", "access-service:<common name>", "credential:<id>", "gateway", the
 * webhook's name, or "portal:<consumer id>". Never a secret.
 * @example actorName({ kind: "admin_token", token: "ADMIN_TOKEN" }) // "ADMIN_TOKEN"
 */
export function actorName(actor: Actor): string {
  switch (actor.kind) {
    case "admin_token":
      return actor.token;
    case "access":
      return `access:${actor.email}`;
    case "access_service":
      return `access-service:${actor.commonName}`;
    case "credential":
      return `credential:${actor.id}`;
    case "gateway":
      return "gateway";
    case "webhook":
      return actor.name;
    case "portal":
      return `portal:${actor.consumerId}`;
  }
}
