/** The gateway end to end: real Worker, real D1/KV, the origin fixture behind the ORIGIN service binding. */
import { describe, expect, it } from "vitest";
import { call, gateway, mintKey, originSaw, problemOf, type Echo } from "../helpers";

describe("pass-through contract", () => {
  it("forwards method, path, query, body and headers, and streams the origin's answer back", async () => {
    const { apiKey, id } = await mintKey({ scopes: ["write"], owner_id: "team-a" });
    const { response, trace } = gateway("/api/v1/orders?page=2&sort=desc", apiKey, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Custom": "kept", Accept: "application/json" },
      body: JSON.stringify({ item: 42 }),
    });
    const res = await response;
    expect(res.status).toBe(200);
    expect(res.headers.get("X-Origin")).toBe("echo");
    expect(res.headers.get("Set-Cookie")).toBe("session=abc");
    const echo = (await res.json()) as Echo;
    expect(echo.method).toBe("POST");
    expect(new URL(echo.url).pathname).toBe("/api/v1/orders");
    expect(new URL(echo.url).search).toBe("?page=2&sort=desc");
    expect(echo.body).toBe('{"item":42}');
    expect(echo.headers["x-custom"]).toBe("kept");
    expect(echo.headers["content-type"]).toBe("application/json");
    expect(echo.headers["x-auth-key-id"]).toBe(id);
    expect(echo.headers["x-auth-owner-id"]).toBe("team-a");
    expect(echo.headers["x-auth-scopes"]).toBe("write");
    expect(echo.headers["x-auth-environment"]).toBe("live");
    expect(echo.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(await originSaw(trace)).toBe(true);
  });

  it("strips both credential headers, client-sent X-Auth-* headers and method overrides", async () => {
    const { apiKey, id } = await mintKey({ scopes: ["read"] });
    const res = await call("/api/v1/me", {
      headers: {
        "X-API-Key": apiKey,
        Authorization: `Bearer ${apiKey}`,
        "X-Auth-Key-Id": "key_forged",
        "X-Auth-Owner-Id": "admin",
        "X-Auth-Scopes": "admin",
        "X-Auth-Anything": "forged",
        "X-HTTP-Method-Override": "DELETE",
        "X-Method-Override": "DELETE",
        "X-HTTP-Method": "DELETE",
        "X-Request-Id": "chosen-by-the-client",
      },
    });
    expect(res.status).toBe(200);
    const echo = (await res.json()) as Echo;
    expect(echo.method).toBe("GET");
    const names = Object.keys(echo.headers);
    expect(names).not.toContain("x-api-key");
    expect(names).not.toContain("authorization");
    expect(names).not.toContain("x-auth-anything");
    expect(names.filter((n) => n.includes("method"))).toEqual([]);
    expect(echo.headers["x-auth-key-id"]).toBe(id);
    expect(echo.headers["x-auth-owner-id"]).toBe("owner-1");
    expect(echo.headers["x-auth-scopes"]).toBe("read");
    expect(echo.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/); // the authorizer's, replacing the client's
    expect(JSON.stringify(echo)).not.toContain(apiKey);
  });

  it("authorizes the real method, not an override header", async () => {
    const { apiKey } = await mintKey({ scopes: ["read"] });
    const { response, trace } = gateway("/api/v1/orders/1", apiKey, {
      method: "POST",
      headers: { "X-HTTP-Method-Override": "GET" },
    });
    const res = await response;
    expect(res.status).toBe(403);
    expect((await problemOf(res)).code).toBe("insufficient_scope");
    expect(await originSaw(trace)).toBe(false);
  });

  it("returns redirects instead of following them", async () => {
    const { apiKey } = await mintKey();
    const res = await gateway("/redirect", apiKey, { redirect: "manual" }).response;
    expect(res.status).toBe(302);
    expect(res.headers.get("Location")).toBe("/elsewhere");
  });

  it("authorizes a WebSocket upgrade and then passes it through", async () => {
    const { apiKey } = await mintKey();
    const refused = await call("/ws", { headers: { Upgrade: "websocket" } });
    expect(refused.status).toBe(401);

    const res = await call("/ws", { headers: { Upgrade: "websocket", "X-API-Key": apiKey } });
    expect(res.status).toBe(101);
    const socket = res.webSocket!;
    socket.accept();
    const reply = new Promise<string>((resolve) => socket.addEventListener("message", (e) => resolve(String(e.data))));
    socket.send("hello");
    expect(await reply).toBe("echo:hello");
    socket.close();
  });
});

describe("reserved paths", () => {
  it("answers /healthz itself, with no secrets", async () => {
    const res = await call("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it.each([
    "/admin/v2/keys",
    "/admin/",
    "/admin",
    "/webhooks",
    "/webhooks/anything",
    "/healthz/x",
    // Spellings the router does not see as reserved, but the origin would decode to a reserved path.
    "/%61dmin/v1/keys",
    "/%77ebhooks/x",
    "/admin;x/v1/keys",
  ])("never forwards %s, even with a valid key", async (path) => {
    const { apiKey } = await mintKey({ scopes: ["admin"] });
    const { response, trace } = gateway(path, apiKey);
    const res = await response;
    expect(res.status).toBe(404);
    expect((await problemOf(res)).code).toBe("not_found");
    expect(await originSaw(trace)).toBe(false);
  });

  it("still forwards paths that only start like a reserved one", async () => {
    const { apiKey } = await mintKey({ scopes: ["read"] });
    const { response, trace } = gateway("/administrators/1", apiKey);
    expect((await response).status).toBe(200);
    expect(await originSaw(trace)).toBe(true);
  });
});

describe("keys in the URL", () => {
  it("refuses a key of this authorizer under any query parameter name, and never forwards it", async () => {
    const { apiKey } = await mintKey({ scopes: ["read"] });
    const { response, trace } = gateway(`/api/v1/search?q=${apiKey}`, apiKey);
    const res = await response;
    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe("key_in_query");
    expect(await originSaw(trace)).toBe(false);
  });
});

describe("methods", () => {
  // workerd itself refuses to build requests with methods such as CONNECT; these are ones it lets through.
  it.each(["TRACE", "PROPFIND", "MKCOL", "COPY"])(
    "refuses %s with 405 and Allow, without contacting the origin",
    async (method) => {
      const { apiKey } = await mintKey({ scopes: ["read", "write"] });
      const { response, trace } = gateway("/api/v1/x", apiKey, { method });
      const res = await response;
      expect(res.status).toBe(405);
      expect(res.headers.get("Allow")).toBe("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
      expect((await problemOf(res)).code).toBe("method_not_allowed");
      expect(await originSaw(trace)).toBe(false);
    },
  );
});

describe("non-canonical paths", () => {
  const spellings = [
    "/api/v1//private",
    "/api/v1/public/..%2fprivate",
    "/api/v1/public/..%2Fprivate",
    "/api/v1/public%2f..%2fprivate",
    "/api/v1/public/..%5cprivate",
    "/api/v1/public/..\\private",
    "/api/v1/public/%00",
    "/api/v1/public/a%00b",
    "/api/v1/public/%2e%2e%2fprivate",
    "//api/v1/private",
    "/api/v1/public/%zz",
    "/api/v1/public/..;/private",
    "/api/v1/public/..%3b/private",
  ];

  it.each(spellings)("refuses %s with 400 and never contacts the origin", async (path) => {
    const { apiKey } = await mintKey({ allowed_routes: ["GET /api/v1/public/*"] });
    const { response, trace } = gateway(path, apiKey);
    const res = await response;
    // Either refused as ambiguous (400), or resolved by the runtime to a path the key may not call (403).
    expect([400, 403]).toContain(res.status);
    const body = await problemOf(res);
    expect(["malformed_request", "route_not_allowed"]).toContain(body.code);
    expect(await originSaw(trace)).toBe(false);
  });

  it.each([
    "/api/v1/public/../private",
    "/api/v1/public/%2e%2e/private",
    "/api/v1/public/./../private",
    "/api/v1/private",
  ])("a key limited to /api/v1/public/* cannot reach /api/v1/private as %s", async (path) => {
    const { apiKey } = await mintKey({ allowed_routes: ["GET /api/v1/public/*"] });
    const { response, trace } = gateway(path, apiKey);
    const res = await response;
    expect(res.status).not.toBe(200);
    expect(await originSaw(trace)).toBe(false);
  });

  it("lets the same key reach the routes it is allowed, in any equivalent spelling", async () => {
    const { apiKey } = await mintKey({ allowed_routes: ["GET /api/v1/public/*"] });
    for (const path of ["/api/v1/public", "/api/v1/public/", "/api/v1/public/a/b", "/api/v1/%70ublic/a"]) {
      const res = await gateway(path, apiKey).response;
      expect(res.status, path).toBe(200);
    }
  });
});

describe("CORS preflight", () => {
  it("is refused when no CORS policy is configured, and never forwarded", async () => {
    const { response, trace } = gateway("/api/v1/x", null, {
      method: "OPTIONS",
      headers: { Origin: "https://app.example.com", "Access-Control-Request-Method": "GET" },
    });
    const res = await response;
    expect(res.status).toBe(403);
    expect(res.headers.get("Vary")).toBe("Origin");
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(await originSaw(trace)).toBe(false);
  });

  it("a plain OPTIONS request without preflight headers needs a key like any other", async () => {
    const res = await call("/api/v1/x", { method: "OPTIONS" });
    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe("missing_api_key");
  });
});
