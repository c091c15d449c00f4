/**
 * The gateway: every request outside the reserved paths is checked here, in this order, and either refused
 * by the authorizer or forwarded to the origin. The origin is never contacted for a refused request.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app";
import { loadConfig } from "../config";
import { problem } from "../http/problem";
import { ALLOW_HEADER, isSupportedMethod } from "../verify/routes";
import { canonicalPath } from "../verify/paths";
import { hasCredentialInQuery, readCredential } from "../verify/credential";
import { verifyKey } from "../verify/verify";
import { answerPreflight, isPreflight, withCors } from "./cors";
import { forward } from "./proxy";

export async function handleGateway(c: Context<AppEnv>): Promise<Response> {
  const request = c.req.raw;
  const requestId = c.get("requestId");
  const now = Date.now();
  const loaded = loadConfig(c.env);
  if (!loaded.ok) return problem("authorizer_unavailable", { requestId, retryAfterSeconds: 30 });
  const { config } = loaded;
  const realm = config.realm;
  const refuse = (response: Response) => withCors(request, config.cors, response);

  if (!isSupportedMethod(request.method)) {
    return refuse(problem("method_not_allowed", { requestId, allow: ALLOW_HEADER }));
  }
  const url = new URL(request.url);
  const path = canonicalPath(url.pathname);
  if (!path) return refuse(problem("malformed_request", { requestId }));
  if (hasCredentialInQuery(url)) return refuse(problem("key_in_query", { requestId }));
  if (isPreflight(request)) return answerPreflight(request, config.cors, requestId);

  const credential = readCredential(request.headers);
  if (credential.kind === "missing") return refuse(problem("missing_api_key", { requestId, realm }));
  if (credential.kind === "malformed") return refuse(problem("malformed_request", { requestId }));

  const stores = { db: c.env.DB, kv: c.env.KEY_CACHE, waitUntil: (p: Promise<unknown>) => c.executionCtx.waitUntil(p) };
  const decision = await verifyKey(
    stores,
    config,
    {
      key: credential.key,
      method: request.method,
      segments: path.segments,
      ip: request.headers.get("CF-Connecting-IP"),
      origin: request.headers.get("Origin"),
    },
    now,
  );
  if (!decision.valid) {
    const retryAfterSeconds = decision.code === "authorizer_unavailable" ? 5 : undefined;
    return refuse(
      problem(decision.code, { requestId, realm, requiredScopes: decision.required_scopes, retryAfterSeconds }),
    );
  }
  return withCors(request, config.cors, await forward(request, url, { config, env: c.env, decision, requestId, now }));
}
