/**
 * POST /admin/v1/portal/sessions — a one-time link to one consumer's self-service portal. The link is in this
 * one response only. The portal is served under the console's host or prefix (CONSOLE_HOSTNAME, CONSOLE_PATH).
 */
import { loadConsoleConfig } from "../config";
import { createPortalSession } from "../operations/create-portal-session";
import { createPortalSessionSchema } from "../operations/schemas";
import { PORTAL_PATH } from "../portal/paths";
import { RESERVED_FIRST_SEGMENTS } from "../reserved-paths";
import { adminOperation, type AdminContext } from "./context";
import { readJson } from "./read-request";

/** The portal's absolute URL: on the console's own hostname (https), or under its prefix on this one. */
function portalUrl(c: AdminContext): string | null {
  const mount = loadConsoleConfig(c.env, RESERVED_FIRST_SEGMENTS)?.mount;
  if (!mount) return null;
  // On the API's host: the host the caller addressed (its Host header; the URL's on Cloudflare, where the two
  // are the same, but `wrangler dev` rewrites the URL's host), as the console's Origin check reads it.
  const url = new URL(c.req.url);
  const origin =
    mount.hostname === null ? `${url.protocol}//${c.req.header("Host") ?? url.host}` : `https://${mount.hostname}`;
  return `${origin}${mount.prefix}${PORTAL_PATH}`;
}

export async function createPortalSessionRoute(c: AdminContext) {
  const input = await readJson(c.req.raw, createPortalSessionSchema);
  return createPortalSession(adminOperation(c), input, portalUrl(c));
}
