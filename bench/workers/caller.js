// Another Worker verifying keys over Workers RPC: HTTP request → env.AUTH.verify({ key, method, path }) → JSON.
// It runs twice with the same code: AUTH bound to the authorizer's AuthService, and AUTH bound to a no-op
// entrypoint (the floor). The decision's code becomes the HTTP status so the harness can check it.
const STATUS = {
  invalid_key: 401,
  key_revoked: 401,
  key_expired: 401,
  key_disabled: 401,
  missing_api_key: 401,
  rate_limited: 429,
  quota_exceeded: 429,
  authorizer_unavailable: 503,
};

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const decision = await env.AUTH.verify({
      key: request.headers.get("X-API-Key") ?? "",
      method: request.method,
      path: url.pathname,
    });
    return Response.json(decision, { status: decision.valid ? 200 : (STATUS[decision.code] ?? 403) });
  },
};
