/**
 * Who performs an operation. Every operation takes one; its name is what audit rows and log lines record.
 * Today the admin API's two credentials (an admin token, an Access user), the gateway and the public webhooks
 * act; later kinds (scoped credentials, portal sessions) are new members of the union, so an operation that
 * only some actors may perform says so in its type.
 */

/** The two admin tokens: ADMIN_TOKEN_NEXT is accepted beside ADMIN_TOKEN while the admin token is rotated. */
export type AdminTokenName = "ADMIN_TOKEN" | "ADMIN_TOKEN_NEXT";

/** The public callbacks that report leaked keys. */
export type WebhookName = "github-secret-scanning" | "trufflehog-verify";

export type Actor =
  /** A caller of the admin API with the admin token of this name. */
  | { kind: "admin_token"; token: AdminTokenName }
  /** A caller of the admin API admitted by a Cloudflare Access JWT: the user's email. */
  | { kind: "access"; email: string }
  /** The gateway, recording a key it saw in a URL. */
  | { kind: "gateway" }
  /** A public webhook, after its own verification. */
  | { kind: "webhook"; name: WebhookName };

/** The actors of the admin API: the only ones that may create or change keys. */
export type AdminActor = Extract<Actor, { kind: "admin_token" | "access" }>;

/**
 * The actor as audit rows and log lines name it: the token's name, the Access user's email, "gateway", or the
 * webhook's name. Never a secret.
 * @example actorName({ kind: "admin_token", token: "ADMIN_TOKEN" }) // "ADMIN_TOKEN"
 */
export function actorName(actor: Actor): string {
  switch (actor.kind) {
    case "admin_token":
      return actor.token;
    case "access":
      return actor.email;
    case "gateway":
      return "gateway";
    case "webhook":
      return actor.name;
  }
}
