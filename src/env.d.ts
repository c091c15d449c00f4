// Bindings that `wrangler types` cannot see in wrangler.toml: secrets, and the optional ORIGIN service
// binding that a deployment in front of another Worker adds.
declare namespace Cloudflare {
  interface Env {
    /** Bearer token for the admin routes. Unset: the admin routes answer 503. */
    ADMIN_TOKEN?: string;
    /** A second admin token accepted alongside ADMIN_TOKEN, so the admin token can be rotated without downtime. */
    ADMIN_TOKEN_NEXT?: string;
    /** When set, forwarded requests carry an X-Auth-Signature HMAC the origin can check. */
    ORIGIN_SIGNING_SECRET?: string;
    /** Signs owner notifications (HMAC-SHA256). Without it, nothing is sent even if NOTIFY_WEBHOOK_URL is set. */
    NOTIFY_WEBHOOK_SECRET?: string;
    /** The Bearer token truffleHog's verification call must carry (set in the generated detector). Unset: the endpoint is off. */
    TRUFFLEHOG_VERIFY_TOKEN?: string;
    /** The origin Worker, used when ORIGIN_URL is empty. */
    ORIGIN?: Fetcher;
  }
}
