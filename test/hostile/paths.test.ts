/**
 * Non-canonical and encoded paths on scoped routes. Over HTTP, workerd resolves plain dot segments before the
 * Worker runs, but RPC callers pass path strings as they got them, so the RPC entrypoint sees every trick
 * raw: none may turn a key limited to "GET /api/v1/public/*" into one that reaches anything else. And the
 * authorizer's own paths (/admin, /webhooks) are never forwarded to the origin under any spelling.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { AuthService } from "../../src/rpc/auth-service";
import { callWith, mintKey, originSaw } from "../helpers";

let publicOnly: { apiKey: string };
let everything: { apiKey: string };
beforeAll(async () => {
  publicOnly = await mintKey({ scopes: ["read", "write"], allowed_routes: ["GET /api/v1/public/*"] });
  everything = await mintKey({ scopes: ["read", "write", "admin"] });
});

async function verify(path: string, method = "GET") {
  const ctx = createExecutionContext();
  const decision = await new AuthService(ctx, env).verify({ key: publicOnly.apiKey, method, path });
  await waitOnExecutionContext(ctx);
  return decision;
}

describe("RPC: raw path strings against a key limited to GET /api/v1/public/*", () => {
  it.each([
    "/api/v1/public/../private",
    "/api/v1/public/./../private",
    "/api/v1/public/%2e%2e/private",
    "/api/v1/public/%2E%2e/private",
    "/api/v1/public/.%2e/private",
    "/api/v1/public/%252e%252e/private",
    "/api/v1/public/..%2fprivate",
    "/api/v1/public/..%5cprivate",
    "/api/v1/public/..\\private",
    "/api/v1/public/..;/private",
    "/api/v1/public/..;jsessionid=1/private",
    "/api/v1/public/%2e%2e;/private",
    "/api/v1/public//../private",
    "/api/v1/public/%00/../private",
    "/api/v1/public/\u0000/private",
    "/api/v1/public/%c0%ae%c0%ae/private",
    "/api/v1/public/%u002e%u002e/private",
    "/api/v1/public?/../private",
    "/api/v1/public#/../private",
    "api/v1/public/x",
    "",
    `/api/v1/public/${"a/".repeat(2100)}`,
  ])("%j is malformed_request, never valid", async (path) => {
    expect(await verify(path)).toEqual({ valid: false, code: "malformed_request" });
  });

  it.each([
    ["/api/v1/private", "GET"],
    ["/api/v1/publicity", "GET"],
    ["/api/v1/PUBLIC/x", "GET"],
    ["/api/v1/public%2Dx/y", "GET"],
    ["/api/v1/public/x", "POST"],
    ["/api/v2/public/x", "GET"],
    ["/api/v1/%70rivate", "GET"],
  ])("%j (%s) is route_not_allowed", async (path, method) => {
    expect(await verify(path, method)).toEqual({ valid: false, code: "route_not_allowed" });
  });

  it.each(["/api/v1/public/x", "/api/v1/%70ublic/x", "/api/v1/public/a%20b", "/api/v1/public/..."])(
    "control: %j is valid",
    async (path) => {
      expect((await verify(path)).valid).toBe(true);
    },
  );
});

describe("the authorizer's own paths are never forwarded", () => {
  it.each([
    "/admin",
    "/admin/",
    "/admin/v1/keys",
    "/%61dmin/v1/keys",
    "/%61%64%6d%69%6e/v1/keys",
    "/admin/v2/anything",
    "/admin/../admin/v1/keys",
    "/webhooks",
    "/webhooks/github",
    "/%77ebhooks/github",
    "/webhooks/gitleaks/../github",
  ])("%j with a key holding every scope: answered by the authorizer, the origin never sees it", async (path) => {
    const trace = crypto.randomUUID();
    const res = await callWith({}, path, { headers: { "X-API-Key": everything.apiKey, "X-Test-Trace": trace } });
    expect([400, 401, 404]).toContain(res.status);
    expect(await res.text()).not.toContain(everything.apiKey);
    expect(await originSaw(trace)).toBe(false);
  });
});
