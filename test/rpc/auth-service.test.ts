/**
 * AuthService.verify over a real service binding: the caller fixture is a second Worker whose AUTH binding
 * points at this Worker's named entrypoint, as a deployment's would.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { generateKey } from "../../src/keys/format";
import { mintKey, revoke } from "../helpers";

async function verify(params: unknown) {
  const res = await env.CALLER.fetch("https://caller.test/", { method: "POST", body: JSON.stringify(params) });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

describe("AuthService.verify", () => {
  it("answers the decision object for a valid key", async () => {
    const { apiKey, id } = await mintKey({ owner_id: "svc-7", scopes: ["read", "write"], metadata: { plan: "pro" } });
    const decision = await verify({ key: apiKey, method: "POST", path: "/api/v1/orders" });
    expect(decision).toEqual({
      valid: true,
      code: "valid",
      key_id: id,
      owner_id: "svc-7",
      scopes: ["read", "write"],
      environment: "live",
      metadata: { plan: "pro" },
      limits: [{ name: "hour", limit: 1000, window_seconds: 3600, remaining: 999, reset_at: expect.any(Number) }],
    });
    // Each verify spends from the key's limits.
    const again = await verify({ key: apiKey, method: "POST", path: "/api/v1/orders" });
    expect((again.limits as { remaining: number }[])[0]!.remaining).toBe(998);
  });

  it("applies every check the gateway applies", async () => {
    const ipKey = await mintKey({ ip_allowlist: ["203.0.113.0/24"] });
    expect(await verify({ key: ipKey.apiKey, method: "GET", path: "/x" })).toMatchObject({
      valid: false,
      code: "ip_not_allowed",
    });
    expect(await verify({ key: ipKey.apiKey, method: "GET", path: "/x", ip: "198.51.100.1" })).toMatchObject({
      code: "ip_not_allowed",
    });
    expect(await verify({ key: ipKey.apiKey, method: "GET", path: "/x", ip: "203.0.113.9" })).toMatchObject({
      valid: true,
    });

    const routed = await mintKey({ allowed_routes: ["GET /api/v1/public/*"] });
    expect(await verify({ key: routed.apiKey, method: "GET", path: "/api/v1/private" })).toMatchObject({
      code: "route_not_allowed",
    });
    expect(await verify({ key: routed.apiKey, method: "GET", path: "/api/v1/public/../private" })).toMatchObject({
      code: "malformed_request",
    });
    expect(await verify({ key: routed.apiKey, method: "GET", path: "/api/v1/public%2f..%2fprivate" })).toMatchObject({
      code: "malformed_request",
    });

    const pk = await mintKey({ type: "publishable", allowed_origins: ["https://app.example.com"] });
    expect(await verify({ key: pk.apiKey, method: "GET", path: "/x" })).toMatchObject({ code: "origin_not_allowed" });
    expect(
      await verify({ key: pk.apiKey, method: "GET", path: "/x", origin: "https://app.example.com" }),
    ).toMatchObject({ valid: true });

    const reader = await mintKey({ scopes: ["read"] });
    expect(await verify({ key: reader.apiKey, method: "DELETE", path: "/x" })).toEqual({
      valid: false,
      code: "insufficient_scope",
      required_scopes: ["write", "admin"],
    });
  });

  it("refuses unknown, malformed and revoked keys", async () => {
    expect(await verify({ key: generateKey("", "secret", "live"), method: "GET", path: "/x" })).toEqual({
      valid: false,
      code: "invalid_key",
    });
    expect(await verify({ key: "sk_live_nope", method: "GET", path: "/x" })).toEqual({
      valid: false,
      code: "invalid_key",
    });
    expect(await verify({ key: "", method: "GET", path: "/x" })).toEqual({ valid: false, code: "missing_api_key" });
    const { apiKey, id } = await mintKey();
    expect((await verify({ key: apiKey, method: "GET", path: "/x" })).valid).toBe(true);
    await revoke(id);
    expect(await verify({ key: apiKey, method: "GET", path: "/x" })).toEqual({ valid: false, code: "key_revoked" });
  });

  it.each([
    [null],
    ["a string"],
    [{ key: 1, method: "GET", path: "/" }],
    [{ key: "k", method: "GET" }],
    [{ key: "k", method: "GET", path: "/", ip: 42 }],
    [{ key: "k", method: "GET", path: "/x?api_key=1" }],
    [{ key: "k", method: "GET", path: "x" }],
  ])("answers malformed_request for the params %j", async (params) => {
    expect(await verify(params)).toEqual({ valid: false, code: "malformed_request" });
  });

  it("answers method_not_allowed for methods the gateway does not serve", async () => {
    const { apiKey } = await mintKey();
    expect(await verify({ key: apiKey, method: "TRACE", path: "/x" })).toEqual({
      valid: false,
      code: "method_not_allowed",
    });
    expect(await verify({ key: apiKey, method: "get", path: "/x" })).toEqual({
      valid: false,
      code: "method_not_allowed",
    });
  });
});
