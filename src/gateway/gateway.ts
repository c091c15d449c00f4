/**
 * The gateway: every request outside the reserved paths is checked here, in this order, and either refused
 * by the authorizer or forwarded to the origin. The origin is never contacted for a refused request.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app";
import { loadConfig } from "../config";
import { problem } from "../http/problem";
import { rateLimitHeaders, retryAfterSeconds } from "../limits/headers";
import { ALLOW_HEADER, isSupportedMethod } from "../verify/routes";
import { canonicalPath } from "../verify/paths";
import { hasCredentialInQuery, readCredential } from "../verify/credential";
import { verifyKey, verifyStores } from "../verify/verify";
import { recordDecision } from "../monitoring/record";
import { answerPreflight, corsHeaders, isPreflight } from "./cors";
import { forward } from "./proxy";

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

export async function handleGateway(c: Context<AppEnv>): Promise<Response> {
  const request = c.req.raw;
  const requestId = c.get("requestId");
  const now = Date.now();
  const loaded = loadConfig(c.env);
  if (!loaded.ok) return problem("authorizer_unavailable", { requestId, retryAfterSeconds: 30 });
  const { config } = loaded;
  const realm = config.realm;
  const cors = corsHeaders(request, config.cors);

  if (!isSupportedMethod(request.method)) {
    return problem("method_not_allowed", { requestId, allow: ALLOW_HEADER, headers: cors });
  }
  const url = new URL(request.url);
  const path = canonicalPath(url.pathname);
  if (!path) return problem("malformed_request", { requestId, headers: cors });
  if (hasCredentialInQuery(url)) return problem("key_in_query", { requestId, headers: cors });
  if (isPreflight(request)) return answerPreflight(request, config.cors, requestId);

  const credential = readCredential(request.headers);
  if (credential.kind === "missing") {
    recordDecision({ env: c.env, waitUntil: (p) => c.executionCtx.waitUntil(p) }, null, "missing_api_key", null, undefined, now); // monitoring
    return problem("missing_api_key", { requestId, realm, headers: cors });
  }
  if (credential.kind === "malformed") return problem("malformed_request", { requestId, headers: cors });

  const decision = await verifyKey(
    verifyStores(c.env, (p) => c.executionCtx.waitUntil(p)),
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
  if (!decision.valid) {
    const retryAfter =
      decision.retry_at !== undefined
        ? retryAfterSeconds(decision.retry_at, now)
        : decision.code === "authorizer_unavailable"
          ? 5
          : undefined;
    const headers = { ...cors, ...(decision.limits ? rateLimitHeaders(decision.limits, now) : {}) };
    return problem(decision.code, { requestId, realm, requiredScopes: decision.required_scopes, retryAfterSeconds: retryAfter, headers });
  }
  const response = await forward(request, url, { config, env: c.env, decision, requestId, now });
  return withHeaders(response, { ...cors, ...rateLimitHeaders(decision.limits, now) });
}
