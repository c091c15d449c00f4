/**
 * The paths the Worker serves itself, through the Hono app: src/app.ts mounts each one here, and the entry
 * and the gateway read the same list. Every other path goes to the gateway, which never forwards a reserved
 * path, however it is spelled.
 */

export const HEALTH_PATH = "/healthz";
/** The admin API, under `${ADMIN_PREFIX}/v1`. */
export const ADMIN_PREFIX = "/admin";
/** The public webhooks (GitHub secret scanning, truffleHog's verification call). */
export const WEBHOOKS_PREFIX = "/webhooks";

/** First path segments the Worker serves itself: "healthz", "admin", "webhooks". */
export const RESERVED_FIRST_SEGMENTS: ReadonlySet<string> = new Set(
  [HEALTH_PATH, ADMIN_PREFIX, WEBHOOKS_PREFIX].map((p) => p.slice(1)),
);

/**
 * Whether the Worker's own routes (the Hono app) answer this path rather than the gateway: exactly the
 * reserved first segments, with or without a trailing part.
 */
export function isReservedPath(pathname: string): boolean {
  const end = pathname.indexOf("/", 1);
  return RESERVED_FIRST_SEGMENTS.has(end === -1 ? pathname.slice(1) : pathname.slice(1, end));
}

/**
 * The session cookies of the console and the portal (src/console/session.ts). The gateway strips them from
 * every request it forwards: the origin never sees a console or portal session, whatever path it was sent to.
 */
export const SESSION_COOKIE_NAMES = { console: "console_session", portal: "portal_session" } as const;
