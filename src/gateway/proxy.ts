/**
 * Forwarding an authorized request to the origin: credentials and client-sent identity headers removed,
 * the authorizer's identity headers added, optionally signed; the origin's answer streamed back as it is.
 */
import type { Config } from "../config";
import { CONFIG_RETRY_AFTER_S, problem } from "../http/problem";
import { log } from "../util/log";
import { clock } from "../util/clock";
import { epochSeconds } from "../util/time";
import { hmacSha256Hex } from "../util/secrets";
import type { Decision } from "../http/decision";
import { SESSION_COOKIE_NAMES } from "../reserved-paths";

/** Headers that never reach the origin: credentials, and method overrides (authorization used the real method). */
const STRIPPED_HEADERS: ReadonlySet<string> = new Set([
  "x-api-key",
  "authorization",
  "x-http-method-override",
  "x-method-override",
  "x-http-method",
]);

const SIGNATURE_HEADER = "X-Auth-Signature";

const SESSION_COOKIES: readonly string[] = Object.values(SESSION_COOKIE_NAMES);

/**
 * The Cookie header without the console's and the portal's session cookies (null if nothing is left). The
 * origin never receives a session of theirs, whatever path a browser sent it to.
 */
function withoutSessionCookies(cookie: string): string | null {
  if (!SESSION_COOKIES.some((name) => cookie.includes(name))) return cookie; // the common case: untouched
  const kept = cookie
    .split(";")
    .map((pair) => pair.trim())
    .filter((pair) => pair !== "" && !SESSION_COOKIES.includes(pair.split("=", 1)[0]!.trim()));
  return kept.length === 0 ? null : kept.join("; ");
}

/**
 * The string the origin signature covers. The origin recomputes it from the request it received and the
 * `t=` of the header, and refuses the request if the HMAC differs or `t` is too old.
 */
export function signaturePayload(timestamp: number, method: string, path: string, keyId: string): string {
  return `v1\n${timestamp}\n${method}\n${path}\n${keyId}`;
}

type ValidDecision = Extract<Decision, { valid: true }>;

export interface ForwardContext {
  config: Config;
  env: Cloudflare.Env;
  decision: ValidDecision;
  requestId: string;
  now: number;
}

/**
 * What the origin receives, as fetch()'s two arguments: fetch(target, init) costs less CPU than building a
 * `new Request` here and fetching that (the runtime's request then needs no JavaScript object of its own).
 */
async function originRequest(
  request: Request,
  url: URL,
  ctx: ForwardContext,
): Promise<[target: string | URL, init: RequestInit]> {
  const { config, env, decision, requestId } = ctx;
  let target: string | URL = request.url; // over the service binding: the URL as the client sent it
  if (config.originUrl) {
    target = new URL(config.originUrl);
    target.pathname = config.originUrl.pathname.replace(/\/$/, "") + url.pathname;
    target.search = url.search;
  }
  // A plain object, not a copied Headers: the request fetch() builds makes its own Headers from it anyway, and
  // every runtime Headers object costs its destruction in a garbage-collection pause (`npm run bench` saw
  // pauses of 20 to 50 ms with one more per request). Names come lowercase, and values of a repeated field
  // joined, as HTTP allows for request fields.
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) {
    if (!STRIPPED_HEADERS.has(name) && !name.startsWith("x-auth-")) headers[name] = value;
  }
  if (headers.cookie !== undefined) {
    const cookie = withoutSessionCookies(headers.cookie);
    if (cookie === null) delete headers.cookie;
    else headers.cookie = cookie;
  }
  headers["x-auth-key-id"] = decision.key_id;
  headers["x-auth-owner-id"] = decision.owner_id;
  headers["x-auth-scopes"] = decision.scopes.join(" ");
  headers["x-auth-environment"] = decision.environment;
  headers["x-request-id"] = requestId;
  if (env.ORIGIN_SIGNING_SECRET) {
    const timestamp = epochSeconds(ctx.now);
    const payload = signaturePayload(timestamp, request.method, url.pathname, decision.key_id);
    headers[SIGNATURE_HEADER.toLowerCase()] =
      `t=${timestamp},v1=${await hmacSha256Hex(env.ORIGIN_SIGNING_SECRET, payload)}`;
  }
  return [target, { method: request.method, headers, body: request.body, redirect: "manual" }];
}

/** What the origin's deadline settles with when it passes first. */
const TIMED_OUT = Symbol("origin timed out");

/**
 * Sends the request to ORIGIN_URL, or over the ORIGIN service binding when no URL is set. Redirects are
 * returned, not followed. The origin has `originTimeoutMs` to answer with headers (then 504); a network
 * failure is 502. Both are told apart from authorization errors by their codes.
 */
export async function forward(request: Request, url: URL, ctx: ForwardContext): Promise<Response> {
  const origin = ctx.config.originUrl ? null : ctx.env.ORIGIN;
  if (!ctx.config.originUrl && !origin) {
    log("error", "gateway.no_origin", {
      request_id: ctx.requestId,
      degraded: "origin_not_configured",
      setting: "ORIGIN_URL",
    });
    return problem("authorizer_unavailable", { requestId: ctx.requestId, retryAfterSeconds: CONFIG_RETRY_AFTER_S });
  }
  const [target, init] = await originRequest(request, url, ctx);
  const answer = origin ? origin.fetch(target, init) : fetch(target, init);
  // The deadline ends when the origin's headers arrive: an event stream or a long download then takes as
  // long as it takes. A race with a timer, not an AbortSignal on the request (a controller, a signal and the
  // runtime's watch on it for every request, and AbortSignal.timeout would cut a body off at the deadline):
  // a request given up on is not aborted at once, the runtime cancels it when this request's context ends.
  let cancelTimer: () => void = () => {};
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    cancelTimer = clock.timer(ctx.config.originTimeoutMs, () => resolve(TIMED_OUT));
  });
  try {
    const response = await Promise.race([answer, deadline]);
    if (response !== TIMED_OUT) return response;
    log("warn", "gateway.origin_failed", { request_id: ctx.requestId, degraded: "origin_timeout" });
    return problem("origin_timeout", { requestId: ctx.requestId });
  } catch {
    log("warn", "gateway.origin_failed", { request_id: ctx.requestId, degraded: "origin_unreachable" });
    return problem("origin_unreachable", { requestId: ctx.requestId });
  } finally {
    cancelTimer();
  }
}
