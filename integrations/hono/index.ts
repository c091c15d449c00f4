/**
 * Hono middleware for a Worker that authorizes its own requests by calling the authorizer's `AuthService`
 * over a service binding, instead of sitting behind its gateway. It reads the credential as the gateway does,
 * asks `verify` for a decision, and answers a refusal exactly as the gateway would: the same problem+json,
 * WWW-Authenticate, Retry-After and rate-limit headers, built by the same code (src/gateway/refusal.ts).
 *
 * What it imports is what the caller's bundle gets: the credential reader, the problem table, the header
 * formatting and the RPC contract's types. Never the verify pipeline, storage or Durable Objects.
 */
import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { problem } from "../../src/http/problem";
import { refusalResponse, unavailableResponse } from "../../src/gateway/refusal";
import { rateLimitHeaders } from "../../src/limits/headers";
import type { AuthServiceContract, Decision } from "../../src/http/decision";
import { hasCredentialInQuery, readCredential } from "../../src/verify/credential";

export type { Decision, DecisionLimit, VerifyParams } from "../../src/http/decision";

/** A granted decision: who the key belongs to, its scopes and metadata, and its limits after this request. */
export type AuthDecision = Extract<Decision, { valid: true }>;

/**
 * The service binding's type: what `Service<AuthService>` offers a caller. Declare the binding with it
 * rather than with `Service<AuthService>`, which would pull the authorizer's whole source into the caller's
 * type-check.
 */
export type AuthServiceBinding = AuthServiceContract;

/**
 * What the middleware puts on the context.
 * @example
 * const app = new Hono<{ Bindings: { AUTH: AuthServiceBinding }; Variables: AuthVariables }>();
 * app.get("/api/orders", (c) => c.json({ owner: c.var.auth.owner_id }));
 */
export type AuthVariables = { auth: AuthDecision };

export interface AuthorizeOptions<B extends string> {
  /** The name of the service binding to `AuthService` in the Worker's env. Default "AUTH". */
  binding?: B;
  /** The realm named in WWW-Authenticate: the authorizer's AUTH_REALM, so both answer the same. Default "api". */
  realm?: string;
  /**
   * The authorizer's KEY_VENDOR_PREFIX, so a key of a vendored deployment in a query string under any
   * parameter name is refused. Parameters named like a credential (`api_key`, `token`, …) are refused
   * whatever this is. Default "" (no vendor part).
   */
  vendor?: string;
  /**
   * The time the limits' reset times are counted from, for RateLimit's `t` and Retry-After (epoch ms).
   * Default `Date.now()`. Tests whose authorizer runs on a fake clock pass that clock's time here.
   */
  now?: (c: Context) => number;
  /**
   * Called when the binding throws (the authorizer unreachable or failing), before the 503 goes out: for
   * the Worker's own logging. Default: one JSON line on console.error with the error's name, never its
   * message, which may carry whatever the far side put in it.
   */
  onError?: (error: unknown, c: Context, requestId: string) => void;
}

/** The middleware's env: the binding it calls and the variable it sets. */
export type AuthEnv<B extends string = "AUTH"> = {
  Bindings: Record<B, AuthServiceBinding>;
  Variables: AuthVariables;
};

function refuse(response: Response): never {
  throw new HTTPException(response.status as ContentfulStatusCode, { res: response });
}

/**
 * Authorizes every request it sees with `AuthService.verify`; a refused request never reaches the
 * handler. Refusals are thrown as `HTTPException`s carrying the finished response, as Hono's own auth
 * middlewares do: an app with its own `onError` returns `err.getResponse()` for them. Put `cors()` before
 * it so that preflights, which carry no key, are answered first.
 * @example
 * import { authorize, type AuthEnv } from "edge-key-authorizer/hono";
 * const app = new Hono<AuthEnv>();
 * app.use("/api/*", authorize());
 * app.get("/api/orders", (c) => c.json({ owner: c.var.auth.owner_id, scopes: c.var.auth.scopes }));
 */
export function authorize<B extends string = "AUTH">(options: AuthorizeOptions<B> = {}): MiddlewareHandler<AuthEnv<B>> {
  const binding = (options.binding ?? "AUTH") as B;
  const realm = options.realm ?? "api";
  const vendor = options.vendor ?? "";
  const now = options.now ?? Date.now;
  const onError = options.onError ?? logUnavailable;
  return async function authorizeRequest(c, next) {
    const requestId = crypto.randomUUID();
    const url = new URL(c.req.url);
    // As at the gateway: URLs end up in logs and Referer headers, so a key there is refused outright.
    if (hasCredentialInQuery(url, vendor)) refuse(problem("key_in_query", { requestId }));
    const credential = readCredential(c.req.raw.headers);
    if (credential.kind === "malformed") refuse(problem("malformed_request", { requestId }));
    const startedAt = now(c);
    let decision: Decision;
    try {
      decision = await c.env[binding].verify({
        // "" is missing_api_key: the authorizer counts anonymous requests as it does the gateway's.
        key: credential.kind === "key" ? credential.key : "",
        method: c.req.method,
        path: url.pathname,
        ip: c.req.header("CF-Connecting-IP"),
        origin: c.req.header("Origin"),
      });
    } catch (error) {
      onError(error, c, requestId);
      refuse(unavailableResponse(requestId));
    }
    if (!decision.valid) refuse(refusalResponse(decision, { requestId, realm, now: startedAt }));
    c.set("auth", decision);
    await next();
    // As the gateway adds them to the origin's answer. A WebSocket upgrade passes as it is.
    if (c.res.status === 101) return;
    for (const [name, value] of Object.entries(rateLimitHeaders(decision.limits, startedAt))) c.header(name, value);
  };
}

function logUnavailable(error: unknown, _c: Context, requestId: string): void {
  const name = error instanceof Error ? error.name : typeof error;
  console.error(JSON.stringify({ level: "error", msg: "authorize.unavailable", request_id: requestId, error: name }));
}
