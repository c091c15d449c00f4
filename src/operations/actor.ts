/**
 * Who performs an operation. Every operation takes one; its name is what audit rows and log lines record.
 * The admin API's principals (the admin token, an Access user or service token, a scoped credential), the
 * gateway and the public webhooks act; a portal session will be a new member of the union, so an operation
 * that only some actors may perform says so in its type.
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
  | { kind: "webhook"; name: WebhookName };

/** The actors of the admin API: the only ones that may create or change keys. */
export type AdminActor = Extract<Actor, { kind: "admin_token" | "access" | "access_service" | "credential" }>;

/** What an admin actor may do. */
export const grantOf = (actor: AdminActor): Grant => (actor.kind === "admin_token" ? FULL_GRANT : actor.grant);

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
 * "ADMIN_TOKEN", "access:<email>", "access-service:<common name>", "credential:<id>", "gateway", or the
 * webhook's name. Never a secret.
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
  }
}
