/**
 * The headers of every console (and portal) answer. The CSP allows scripts and styles from the console's own
 * origin only: no inline script, no inline style, no eval; no framing (clickjacking); forms post only here.
 * uPlot sizes its canvas through the CSSOM, which `style-src` does not govern.
 */
import type { MiddlewareHandler } from "hono";

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

export function securityHeaders(): MiddlewareHandler {
  return async function setSecurityHeaders(c, next) {
    await next();
    const h = c.res.headers;
    h.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    h.set("X-Frame-Options", "DENY");
    h.set("Referrer-Policy", "no-referrer");
    h.set("X-Content-Type-Options", "nosniff");
    h.set("Cross-Origin-Opener-Policy", "same-origin");
    h.set("Cross-Origin-Resource-Policy", "same-origin");
    h.set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), clipboard-write=(self)");
    // Pages hold data and forms with a CSRF token: never stored. Assets set their own (immutable) caching.
    if (!h.has("Cache-Control")) h.set("Cache-Control", "no-store");
  };
}
