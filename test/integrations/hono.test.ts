/**
 * integrations/hono in a Worker of its own (test/fixtures/hono-caller.ts), calling the real authorizer (this
 * Worker, with its D1, KV and Durable Objects) over a service binding to AuthService. Every refusal is
 * compared with the gateway's answer to the same request: same status, headers and body but the request id.
 */
import type { AuthDecision, AuthServiceBinding } from "edge-key-authorizer/hono";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { generateKey } from "../../src/keys/format";
import type { AuthService } from "../../src/rpc/auth-service";
import { testClock } from "../clock";
import { call, mintKey, problemOf, revoke } from "../helpers";

// Typed end to end: the binding a deployment declares as Service<AuthService> is what the middleware takes.
const asBinding = (service: Service<AuthService>): AuthServiceBinding => service;
void asBinding;

const PATH = "/api/v1/orders";

/** The request through the Hono caller; the handler answers `{ handled, owner, auth }` with X-Handler: ran. */
function viaMiddleware(path: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  headers.set("X-Test-Now", String(testClock.now()));
  return env.HONO_CALLER.fetch(`https://caller.test${path}`, { ...init, headers });
}

/** Status, headers and body of a refusal, without its request id (a fresh one per request). */
async function refusal(response: Response) {
  const body = (await problemOf(response)) as Record<string, unknown>;
  expect(body.request_id).toMatch(/^[0-9a-f-]{36}$/);
  delete body.request_id;
  return { status: response.status, headers: Object.fromEntries(response.headers), body };
}

/** The gateway's and the middleware's answers to the same request, which must be the same refusal. */
async function sameRefusal(path: string, init: RequestInit = {}) {
  const atGateway = await refusal(await call(path, init));
  const viaHono = await refusal(await viaMiddleware(path, init));
  expect(viaHono).toEqual(atGateway);
  return viaHono;
}

const withKey = (apiKey: string, init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { ...(init.headers as Record<string, string>), "X-API-Key": apiKey },
});

describe("Hono middleware over the AuthService binding", () => {
  it("hands a valid key's decision to the handler as c.var.auth, with the gateway's rate-limit headers", async () => {
    const { apiKey, id } = await mintKey({ owner_id: "svc-9", scopes: ["read", "write"], metadata: { plan: "pro" } });
    const res = await viaMiddleware(PATH, { method: "POST", headers: { Authorization: `Bearer ${apiKey}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("X-Handler")).toBe("ran");
    const { auth, owner } = (await res.json()) as { auth: AuthDecision; owner: string };
    expect(owner).toBe("svc-9");
    expect(auth).toEqual({
      valid: true,
      code: "valid",
      key_id: id,
      owner_id: "svc-9",
      scopes: ["read", "write"],
      environment: "live",
      metadata: { plan: "pro" },
      limits: [{ name: "hour", limit: 1000, window_seconds: 3600, remaining: 999, reset_at: expect.any(Number) }],
    });
    // The gateway's next answer for the same key carries the same headers, one token further on.
    const atGateway = await call(PATH, withKey(apiKey, { method: "POST" }));
    expect(atGateway.status).toBe(200);
    await atGateway.body?.cancel();
    expect(res.headers.get("RateLimit-Policy")).toBe(atGateway.headers.get("RateLimit-Policy"));
    expect(res.headers.get("RateLimit")).toBe(atGateway.headers.get("RateLimit")!.replace("r=998", "r=999"));
  });

  it("passes the method, the path and CF-Connecting-IP to the authorizer", async () => {
    const scoped = await mintKey({
      scopes: ["read"],
      ip_allowlist: ["203.0.113.0/24"],
      allowed_routes: ["* /api/v1/public/*"],
    });
    const from = (ip: string | null) =>
      withKey(scoped.apiKey, ip === null ? {} : { headers: { "CF-Connecting-IP": ip } });
    expect((await viaMiddleware("/api/v1/public/a", from("203.0.113.9"))).status).toBe(200);
    expect((await sameRefusal("/api/v1/public/a", from(null))).body.code).toBe("ip_not_allowed");
    expect((await sameRefusal("/api/v1/public/a", from("198.51.100.1"))).body.code).toBe("ip_not_allowed");
    expect((await sameRefusal("/api/v1/private", from("203.0.113.9"))).body.code).toBe("route_not_allowed");
    const deleting = await sameRefusal("/api/v1/public/a", { ...from("203.0.113.9"), method: "DELETE" });
    expect(deleting.status).toBe(403);
    expect(deleting.headers["www-authenticate"]).toBe(
      'Bearer realm="api", error="insufficient_scope", scope="write admin"',
    );
    expect(deleting.body).toMatchObject({ code: "insufficient_scope" });
  });

  it("answers a missing, unknown or revoked key as the gateway does, and the handler never runs", async () => {
    const missing = await sameRefusal(PATH);
    expect(missing).toMatchObject({ status: 401, body: { code: "missing_api_key" } });
    expect(missing.headers["www-authenticate"]).toBe('Bearer realm="api"');

    const unknown = await sameRefusal(PATH, withKey(generateKey("", "secret", "live")));
    expect(unknown).toMatchObject({ status: 401, body: { code: "invalid_key" } });
    expect(unknown.headers["www-authenticate"]).toBe('Bearer realm="api", error="invalid_token"');

    const { apiKey, id } = await mintKey();
    expect((await viaMiddleware(PATH, withKey(apiKey))).status).toBe(200);
    expect((await revoke(id)).status).toBe(200);
    const revoked = await sameRefusal(PATH, withKey(apiKey));
    expect(revoked).toMatchObject({ status: 401, body: { code: "key_revoked" } });
    expect(revoked.headers["x-handler"]).toBeUndefined();
  });

  it("refuses what the gateway refuses before asking: a key in the URL, conflicting credentials, a method it does not serve", async () => {
    const { apiKey } = await mintKey();
    expect((await sameRefusal(`${PATH}?api_key=abc`, withKey(apiKey))).body.code).toBe("key_in_query");
    const conflicting = withKey(apiKey, { headers: { Authorization: `Bearer ${generateKey("", "secret", "live")}` } });
    expect((await sameRefusal(PATH, conflicting)).body.code).toBe("malformed_request");
    const propfind = await sameRefusal(PATH, withKey(apiKey, { method: "PROPFIND" }));
    expect(propfind).toMatchObject({ status: 405, body: { code: "method_not_allowed" } });
    expect(propfind.headers.allow).toBe("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
  });

  it("answers a rate-limited key with the gateway's 429: Retry-After, RateLimit and RateLimit-Policy", async () => {
    const limits = { rate_limits: [{ name: "hour", limit: 1, window_seconds: 3600 }] };
    const [first, second] = [await mintKey(limits), await mintKey(limits)];
    testClock.advance(90_000); // inside the window, so Retry-After is not the whole window
    const gatewayOk = await call(PATH, withKey(first.apiKey));
    await gatewayOk.body?.cancel();
    const honoOk = await viaMiddleware(PATH, withKey(second.apiKey));
    expect([gatewayOk.status, honoOk.status]).toEqual([200, 200]);
    expect(honoOk.headers.get("RateLimit")).toBe(gatewayOk.headers.get("RateLimit"));

    const atGateway = await refusal(await call(PATH, withKey(first.apiKey)));
    const viaHono = await refusal(await viaMiddleware(PATH, withKey(second.apiKey)));
    expect(viaHono).toEqual(atGateway);
    expect(viaHono.status).toBe(429);
    expect(viaHono.body.code).toBe("rate_limited");
    expect(Number(viaHono.headers["retry-after"])).toBeGreaterThan(0);
    expect(viaHono.headers.ratelimit).toMatch(/^"hour";r=0;t=\d+$/);
    expect(viaHono.headers["ratelimit-policy"]).toBe('"hour";q=1;w=3600');
  });

  it("answers 503 without any detail when the binding throws", async () => {
    const { apiKey } = await mintKey();
    const res = await viaMiddleware("/broken/x", withKey(apiKey));
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBe("5");
    const text = await res.clone().text();
    for (const detail of ["D1_ERROR", "SELECT", "key_hash", "Error", apiKey]) expect(text).not.toContain(detail);
    const body = await problemOf(res);
    expect(body).toMatchObject({ status: 503, code: "authorizer_unavailable" });
    // The Worker's onError saw the failure under the request id the client was given.
    expect(res.headers.get("X-Test-Failure")).toBe(`${body.request_id} Error`);
    expect(res.headers.get("X-Handler")).toBeNull();
  });
});
