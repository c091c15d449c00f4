/**
 * Every refusal the authorizer makes: a closed set of codes, each with one status and title, rendered as
 * RFC 9457 problem+json. Bodies carry the code and a request id, never a key, a hash, a stack or SQL.
 */

export const PROBLEMS = {
  missing_api_key: { status: 401, title: "An API key is required" },
  invalid_key: { status: 401, title: "The API key is not valid" },
  key_revoked: { status: 401, title: "The API key has been revoked" },
  key_expired: { status: 401, title: "The API key has expired" },
  key_disabled: { status: 401, title: "The API key is disabled" },
  consumer_disabled: { status: 401, title: "The key's consumer is disabled" },
  ip_not_allowed: { status: 403, title: "The client address is not allowed for this key" },
  origin_not_allowed: { status: 403, title: "The Origin is not allowed" },
  route_not_allowed: { status: 403, title: "This key may not call this route" },
  insufficient_scope: { status: 403, title: "The key lacks a scope this route requires" },
  key_in_query: { status: 400, title: "Credentials are not accepted in the URL" },
  malformed_request: { status: 400, title: "The request is malformed" },
  method_not_allowed: { status: 405, title: "The method is not supported" },
  rate_limited: { status: 429, title: "Too many requests for this key or client" },
  quota_exceeded: { status: 429, title: "The key's quota is used up" },
  origin_unreachable: { status: 502, title: "The origin could not be reached" },
  origin_timeout: { status: 504, title: "The origin did not answer in time" },
  authorizer_unavailable: { status: 503, title: "The authorizer is unavailable" },
  // Admin API.
  admin_unauthorized: { status: 401, title: "A valid admin credential is required" },
  forbidden_operation: { status: 403, title: "This admin principal may not perform this operation" },
  invalid_request: { status: 400, title: "The request body or parameters are invalid" },
  payload_too_large: { status: 413, title: "The request body is too large" },
  unsupported_media_type: { status: 415, title: "The request body must be application/json" },
  key_not_found: { status: 404, title: "No key has this id" },
  key_state_conflict: { status: 409, title: "The key's state does not allow this change" },
  not_found: { status: 404, title: "Not found" },
  consumer_not_found: { status: 404, title: "No consumer has this id" },
  consumer_exists: { status: 409, title: "A consumer with this id exists (or existed: ids are never reused)" },
  consumer_state_conflict: { status: 409, title: "The consumer's state does not allow this change" },
  consumer_has_keys: { status: 409, title: "The consumer still has keys that are not revoked" },
  credential_not_found: { status: 404, title: "No admin credential has this id" },
  key_policy_violation: { status: 409, title: "The consumer's key policy does not allow this key" },
  portal_unavailable: { status: 409, title: "The portal is off: set CONSOLE_HOSTNAME or CONSOLE_PATH" },
  // Leak webhooks.
  invalid_signature: { status: 401, title: "The request signature is missing or not valid" },
  webhook_unauthorized: { status: 401, title: "A valid webhook token is required" },
  signing_keys_unavailable: { status: 503, title: "The signing keys could not be fetched" },
} as const;

export type ProblemCode = keyof typeof PROBLEMS;

/** Codes whose 401 tells the client a key was presented and refused (RFC 6750 `error="invalid_token"`). */
const INVALID_TOKEN_CODES: ReadonlySet<ProblemCode> = new Set([
  "invalid_key",
  "key_revoked",
  "key_expired",
  "key_disabled",
  "consumer_disabled",
]);

export interface ProblemOptions {
  requestId: string;
  realm?: string;
  /** For `insufficient_scope`: the scopes any one of which would have sufficed. */
  requiredScopes?: readonly string[];
  /** For 429s and 503s: seconds after which a retry may succeed. */
  retryAfterSeconds?: number;
  /** For 405s. */
  allow?: string;
  /** Extra members, e.g. the field errors of `invalid_request`. Never secrets. */
  extra?: Record<string, unknown>;
  /** Extra response headers (CORS, rate-limit), by their canonical names. */
  headers?: Readonly<Record<string, string>>;
}

/** The code of every problem response built here, so the request log can name it without reading the body. */
const problemCodes = new WeakMap<Response, ProblemCode>();

/** The problem code a response was built with, or undefined for any other response (an origin's, say). */
export function problemCodeOf(response: Response): ProblemCode | undefined {
  return problemCodes.get(response);
}

/**
 * Builds the problem+json response for a code.
 * @example return problem("invalid_key", { requestId, realm: "api" });
 */
export function problem(code: ProblemCode, options: ProblemOptions): Response {
  const { status, title } = PROBLEMS[code];
  // A plain object, not a Headers: refusals are the cheapest answers the authorizer gives, and stay so.
  const headers: Record<string, string> = { ...options.headers };
  headers["Content-Type"] = "application/problem+json";
  headers["Cache-Control"] = "no-store";
  const challenge = wwwAuthenticate(code, options);
  if (challenge !== null) headers["WWW-Authenticate"] = challenge;
  if (options.retryAfterSeconds !== undefined) headers["Retry-After"] = String(options.retryAfterSeconds);
  if (options.allow !== undefined) headers.Allow = options.allow;
  const body = {
    type: `urn:problem:${code}`,
    title,
    status,
    code,
    request_id: options.requestId,
    ...options.extra,
  };
  const response = new Response(JSON.stringify(body), { status, headers });
  problemCodes.set(response, code);
  return response;
}

function wwwAuthenticate(code: ProblemCode, options: ProblemOptions): string | null {
  const realm = options.realm ?? "api";
  if (code === "missing_api_key") return `Bearer realm="${realm}"`;
  if (INVALID_TOKEN_CODES.has(code)) return `Bearer realm="${realm}", error="invalid_token"`;
  if (code === "insufficient_scope") {
    return `Bearer realm="${realm}", error="insufficient_scope", scope="${(options.requiredScopes ?? []).join(" ")}"`;
  }
  if (code === "admin_unauthorized") return `Bearer realm="admin"`;
  return null;
}

/**
 * Thrown by handlers and turned into a response in one place (the app's onError). Carries only a code and
 * safe options, never the cause's message.
 */
export class ProblemError extends Error {
  constructor(
    readonly code: ProblemCode,
    readonly options: Omit<ProblemOptions, "requestId"> = {},
  ) {
    super(code);
    this.name = "ProblemError";
  }
}

/**
 * The Retry-After of every 503 the deployment's configuration causes (a malformed setting, no admin
 * credential, no origin). Only a deploy fixes one, so a quicker retry would only add load; a slower one
 * would keep clients waiting after the fix.
 */
export const CONFIG_RETRY_AFTER_S = 30;

/** The refusal for a route whose settings are malformed or missing (log the setting before throwing it). */
export function configUnavailable(): ProblemError {
  return new ProblemError("authorizer_unavailable", { retryAfterSeconds: CONFIG_RETRY_AFTER_S });
}
