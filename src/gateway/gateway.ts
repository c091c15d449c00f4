/**
 * The gateway: every request outside the reserved paths is checked here, in this order, and either refused
 * by the authorizer or forwarded to the origin. The origin is never contacted for a refused request.
 */
import { loadConfig } from "../config";
import { CONFIG_RETRY_AFTER_S, problem, problemCodeOf } from "../http/problem";
import { log, logRefusal } from "../util/log";
import { clock } from "../util/clock";
import { rateLimitHeaders } from "../limits/headers";
import { refusalResponse, unavailableResponse } from "./refusal";
import { ALLOW_HEADER, isSupportedMethod } from "../http/route-policy";
import { canonicalPath } from "../verify/paths";
import { hasCredentialInQuery, readCredential } from "../verify/credential";
import { verifyKey, verifyStores } from "../verify/verify";
import { decisionSink } from "../monitoring/decision-sink";
import { answerPreflight, corsHeaders, isPreflight } from "./cors";
import { forward } from "./proxy";
import { recordQueryExposure } from "../operations/record-query-exposure";
import { RESERVED_FIRST_SEGMENTS } from "../reserved-paths";

/** Adds headers to a response (a copy: fetched responses are immutable). A WebSocket upgrade passes as it is. */
function withHeaders(response: Response, headers: Record<string, string>): Response {
  if (response.status === 101 || Object.keys(headers).length === 0) return response;
  const out = new Response(response.body, response);
  for (const [name, value] of Object.entries(headers)) {
    if (name === "Vary") out.headers.append(name, value);
    else out.headers.set(name, value);
  }
  return out;
}

/**
 * Authorizes one request and forwards it or refuses it. Called by the Worker's entry for every path outside
 * the reserved ones, without the Hono app: this is the hot path, and it needs no router. An unexpected
 * error is a 503, never a stack or a message.
 */

export async function handleGateway(
  request: Request,
  url: URL,
  env: Cloudflare.Env,
  ctx: ExecutionContext,
): Promise<Response> {
  const requestId = crypto.randomUUID();
  let response: Response;
  try {
    response = await authorizeAndForward(request, url, env, ctx, requestId);
  } catch (error) {
    log("error", "gateway.unhandled", { request_id: requestId, error: (error as Error).name });
    response = unavailableResponse(requestId);
  }
  // One structured line per refusal (the admin routes log theirs in src/http/request-log.ts).
  const code = problemCodeOf(response);
  if (code !== undefined) {
    logRefusal(response.status >= 500 ? "warn" : "info", {
      request_id: requestId,
      method: request.method,
      status: response.status,
      code,
    });
  }
  // HEAD is GET without a body (RFC 9110 §9.3.2): a refusal's problem body, or one an origin sent anyway,
  // does not go out; the status and headers do.
  if (request.method === "HEAD" && response.body !== null) return new Response(null, response);
  return response;
}

async function authorizeAndForward(
  request: Request,
  url: URL,
  env: Cloudflare.Env,
  ctx: ExecutionContext,
  requestId: string,
) {
  const now = clock.now();
  const loaded = loadConfig(env);
  if (!loaded.ok) return problem("authorizer_unavailable", { requestId, retryAfterSeconds: CONFIG_RETRY_AFTER_S });
  const { config } = loaded;
  const realm = config.realm;
  const waitUntil = (p: Promise<unknown>) => ctx.waitUntil(p);
  const cors = corsHeaders(request, config.cors);

  if (!isSupportedMethod(request.method)) {
    return problem("method_not_allowed", { requestId, allow: ALLOW_HEADER, headers: cors });
  }
  const path = canonicalPath(url.pathname);
  if (!path) return problem("malformed_request", { requestId, headers: cors });
  // However it was spelled ("/%61dmin/…", "/admin;x/…" which Java servers read as "/admin/…"), a reserved
  // path is never forwarded.
  if (RESERVED_FIRST_SEGMENTS.has(path.segments[0]!.split(";", 1)[0]!))
    return problem("not_found", { requestId, headers: cors });
  if (hasCredentialInQuery(url, config.vendor)) {
    // Refused first; recording the exposure (one of our keys in a URL) runs after the answer.
    const exposure = { url, method: request.method, ip: request.headers.get("CF-Connecting-IP") };
    const scope = { env, requestId, waitUntil, actor: { kind: "gateway" } as const };
    ctx.waitUntil(recordQueryExposure(scope, config, exposure, now));
    return problem("key_in_query", { requestId, headers: cors });
  }
  if (isPreflight(request)) return answerPreflight(request, config.cors, requestId);

  const decisions = decisionSink(env, waitUntil);
  const credential = readCredential(request.headers);
  if (credential.kind === "missing") {
    decisions.recordDecision(null, "missing_api_key", null, undefined, now); // monitoring
    return problem("missing_api_key", { requestId, realm, headers: cors });
  }
  if (credential.kind === "malformed") return problem("malformed_request", { requestId, headers: cors });

  const decision = await verifyKey(
    verifyStores(env, waitUntil, decisions),
    config,
    {
      key: credential.key,
      method: request.method,
      segments: path.segments,
      ip: request.headers.get("CF-Connecting-IP"),
      origin: request.headers.get("Origin"),
      cf: request.cf, // monitoring: ASN and country
    },
    now,
  );
  if (!decision.valid) return refusalResponse(decision, { requestId, realm, now, headers: cors });
  const response = await forward(request, url, { config, env, decision, requestId, now });
  return withHeaders(response, { ...cors, ...rateLimitHeaders(decision.limits, now) });
}
