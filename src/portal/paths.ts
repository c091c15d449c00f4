/**
 * Where the portal is served: this path under the console's host or prefix (src/console/app.tsx hands it
 * every request there), so it shares the console's opt-in, its assets and its headers, and its cookie
 * (`Path=<prefix>/portal`) is never sent to a console page.
 */
export const PORTAL_PATH = "/portal";
/** A link's path under the portal: `/link/<token>`, exchanged once, then answered with a redirect to a clean URL. */
export const LINK_PATH = "/link";
