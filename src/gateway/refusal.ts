/**
 * A refused decision as a response, defined once for the gateway and for the Hono middleware of calling
 * Workers (integrations/hono): the same status, problem body, WWW-Authenticate, Retry-After and rate-limit
 * headers, whichever of the two a client went through. Imports only leaves, because the middleware ships it
 * inside other Workers' bundles.
 */
import type { Decision } from "../http/decision";
import { rateLimitHeaders, retryAfterSeconds } from "../limits/headers";
import { problem } from "../http/problem";
import { ALLOW_HEADER } from "../http/route-policy";

type Refusal = Extract<Decision, { valid: false }>;

/** The 429 detail of a request whose route costs more tokens than one of its limits holds in a whole window. */
const NEVER_ADMITTED = "This route costs more than the limit allows in a whole window: it can never be admitted.";

/**
 * The Retry-After of a 503 whose cause is transient (a storage or binding failure): soon enough that a
 * client is not kept waiting once it passes, late enough that retries do not pile onto the failing part.
 */
const UNAVAILABLE_RETRY_AFTER_S = 5;

export interface RefusalOptions {
  requestId: string;
  /** The realm named in WWW-Authenticate (AUTH_REALM). */
  realm: string;
  /** The time the limits' reset times are counted from (epoch ms): the request's start. */
  now: number;
  /** Extra headers, e.g. the gateway's CORS headers. */
  headers?: Readonly<Record<string, string>>;
}

/** The response for a refused decision. */
export function refusalResponse(decision: Refusal, options: RefusalOptions): Response {
  const { now } = options;
  const retryAfter =
    typeof decision.retry_at === "number"
      ? retryAfterSeconds(decision.retry_at, now)
      : decision.code === "authorizer_unavailable"
        ? UNAVAILABLE_RETRY_AFTER_S
        : undefined;
  return problem(decision.code, {
    requestId: options.requestId,
    realm: options.realm,
    requiredScopes: decision.required_scopes,
    retryAfterSeconds: retryAfter,
    // Over RPC the method is checked by the authorizer, so a 405 comes back as a decision; it lists the methods served.
    allow: decision.code === "method_not_allowed" ? ALLOW_HEADER : undefined,
    headers: { ...options.headers, ...(decision.limits ? rateLimitHeaders(decision.limits, now) : {}) },
    extra: decision.retry_at === null ? { detail: NEVER_ADMITTED } : undefined,
  });
}

/** The 503 of a request the authorizer could not decide (an unexpected error): no message, no stack. */
export function unavailableResponse(requestId: string): Response {
  return problem("authorizer_unavailable", { requestId, retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_S });
}
