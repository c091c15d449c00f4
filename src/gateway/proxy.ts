/**
 * Forwarding an authorized request to the origin: credentials and client-sent identity headers removed,
 * the authorizer's identity headers added, optionally signed; the origin's answer streamed back as it is.
 */
import type { Config } from "../config";
import { problem } from "../http/problem";
import { log } from "../util/log";
import { hmacSha256Hex } from "../util/secrets";
import type { Decision } from "../verify/verify";

/** Headers that never reach the origin: credentials, and method overrides (authorization used the real method). */
const STRIPPED_HEADERS = ["x-api-key", "authorization", "x-http-method-override", "x-method-override", "x-http-method"];

export const SIGNATURE_HEADER = "X-Auth-Signature";

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

/** The request the origin receives; `signal` aborts it (the origin's deadline). */
export async function originRequest(request: Request, url: URL, ctx: ForwardContext, signal?: AbortSignal): Promise<Request> {
  const { config, env, decision, requestId } = ctx;
  let target = url;
  if (config.originUrl) {
    target = new URL(config.originUrl);
    target.pathname = config.originUrl.pathname.replace(/\/$/, "") + url.pathname;
    target.search = url.search;
  }
  const headers = new Headers(request.headers);
  for (const name of STRIPPED_HEADERS) headers.delete(name);
  for (const name of [...headers.keys()]) if (name.startsWith("x-auth-")) headers.delete(name);
  headers.set("X-Auth-Key-Id", decision.key_id);
  headers.set("X-Auth-Owner-Id", decision.owner_id);
  headers.set("X-Auth-Scopes", decision.scopes.join(" "));
  headers.set("X-Auth-Environment", decision.environment);
  headers.set("X-Request-Id", requestId);
  if (env.ORIGIN_SIGNING_SECRET) {
    const timestamp = Math.floor(ctx.now / 1000);
    const payload = signaturePayload(timestamp, request.method, url.pathname, decision.key_id);
    headers.set(SIGNATURE_HEADER, `t=${timestamp},v1=${await hmacSha256Hex(env.ORIGIN_SIGNING_SECRET, payload)}`);
  }
  // The signal travels on the request itself: a second argument to fetch() would make the runtime build yet
  // another copy of the request.
  return new Request(target, { method: request.method, headers, body: request.body, redirect: "manual", signal });
}

/**
 * Sends the request to ORIGIN_URL, or over the ORIGIN service binding when no URL is set. Redirects are
 * returned, not followed. The origin has `originTimeoutMs` to answer with headers (then 504); a network
 * failure is 502. Both are told apart from authorization errors by their codes.
 */
export async function forward(request: Request, url: URL, ctx: ForwardContext): Promise<Response> {
  const origin = ctx.config.originUrl ? null : ctx.env.ORIGIN;
  if (!ctx.config.originUrl && !origin) {
    log("error", "gateway.no_origin", { request_id: ctx.requestId, degraded: "origin_not_configured", setting: "ORIGIN_URL" });
    return problem("authorizer_unavailable", { requestId: ctx.requestId, retryAfterSeconds: 30 });
  }
  // The deadline ends when the origin's headers arrive: an event stream or a long download then takes as
  // long as it takes (AbortSignal.timeout would cut its body off at the deadline).
  const deadline = new AbortController();
  const outgoing = await originRequest(request, url, ctx, deadline.signal);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    deadline.abort();
  }, ctx.config.originTimeoutMs);
  try {
    return await (origin ? origin.fetch(outgoing) : fetch(outgoing));
  } catch {
    log("warn", "gateway.origin_failed", { request_id: ctx.requestId, degraded: timedOut ? "origin_timeout" : "origin_unreachable" });
    return problem(timedOut ? "origin_timeout" : "origin_unreachable", { requestId: ctx.requestId });
  } finally {
    clearTimeout(timer);
  }
}
