/** Gateway behaviour that depends on deployment settings, exercised with the real Worker and bindings. */
import { describe, expect, it } from "vitest";
import { signaturePayload } from "../../src/gateway/proxy";
import { CONFIG_RETRY_AFTER_S } from "../../src/http/problem";
import { hmacSha256Hex } from "../../src/util/secrets";
import { callWith, mintKey, originSaw, problemOf, type Echo } from "../helpers";
import { epochSeconds } from "../../src/util/time";
import { hasSettled, testClock, until, useRealClock } from "../clock";

const CORS_POLICY = JSON.stringify({
  allowed_origins: ["https://app.example.com"],
  allowed_methods: ["GET", "POST"],
  allowed_headers: ["X-API-Key", "Content-Type"],
  max_age: 300,
});

describe("CORS policy", () => {
  const preflight = (origin: string, method: string, headers = "x-api-key") =>
    callWith({ CORS_POLICY }, "/api/v1/x", {
      method: "OPTIONS",
      headers: { Origin: origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers },
    });

  it("answers an allowed preflight itself with the policy", async () => {
    const res = await preflight("https://app.example.com", "POST", "X-API-Key, content-type");
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.com");
    expect(res.headers.get("Access-Control-Allow-Methods")).toBe("GET, POST");
    expect(res.headers.get("Access-Control-Allow-Headers")).toBe("x-api-key, content-type");
    expect(res.headers.get("Access-Control-Max-Age")).toBe("300");
    expect(res.headers.get("Vary")).toBe("Origin");
    expect(await res.text()).toBe("");
  });

  it.each([
    ["another origin", "https://evil.example.com", "GET", "x-api-key"],
    ["a method outside the policy", "https://app.example.com", "DELETE", "x-api-key"],
    ["a header outside the policy", "https://app.example.com", "GET", "x-api-key, x-secret"],
  ])("refuses a preflight from %s", async (_label, origin, method, headers) => {
    const res = await preflight(origin, method, headers);
    expect(res.status).toBe(403);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(res.headers.get("Vary")).toBe("Origin");
  });

  it("lets an allowed origin read responses, refusals included", async () => {
    const { apiKey } = await mintKey();
    const ok = await callWith({ CORS_POLICY }, "/api/v1/x", {
      headers: { Origin: "https://app.example.com", "X-API-Key": apiKey },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.com");
    const refused = await callWith({ CORS_POLICY }, "/api/v1/x", { headers: { Origin: "https://app.example.com" } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.com");
    const other = await callWith({ CORS_POLICY }, "/api/v1/x", {
      headers: { Origin: "https://evil.example.com", "X-API-Key": apiKey },
    });
    expect(other.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});

describe("ROUTE_POLICY", () => {
  const ROUTE_POLICY = JSON.stringify([
    { route: "GET /api/v1/public/*", scopes: [] },
    { route: "* /api/v1/billing/*", scopes: ["billing"] },
    { route: "GET /*", scopes: ["read"] },
  ]);

  it("applies the first matching rule, and refuses routes no rule covers", async () => {
    const reader = await mintKey({ scopes: ["read"] });
    const biller = await mintKey({ scopes: ["billing"] });
    const get = (k: string, path: string, method = "GET") =>
      callWith({ ROUTE_POLICY }, path, { method, headers: { "X-API-Key": k } });
    expect((await get(biller.apiKey, "/api/v1/public/doc")).status).toBe(200);
    expect((await get(biller.apiKey, "/api/v1/billing/invoices", "POST")).status).toBe(200);
    const noScope = await get(reader.apiKey, "/api/v1/billing/invoices");
    expect(noScope.status).toBe(403);
    expect(noScope.headers.get("WWW-Authenticate")).toContain('scope="billing"');
    expect((await get(reader.apiKey, "/api/v1/anything")).status).toBe(200);
    const uncovered = await get(reader.apiKey, "/api/v1/anything", "POST");
    expect(uncovered.status).toBe(403);
    expect((await problemOf(uncovered)).code).toBe("insufficient_scope");
  });

  it.each([
    ["ROUTE_POLICY", "not json"],
    ["ROUTE_POLICY", JSON.stringify([{ route: "GET api/no-slash", scopes: [] }])],
    ["CORS_POLICY", "{"],
    ["KEY_VENDOR_PREFIX", "Bad_Vendor"],
    ["ORIGIN_URL", "ftp://example.com"],
    ["MAX_KEY_LIFETIME_DAYS", "-1"],
  ])("a malformed %s closes the gateway with 503, never opens it", async (setting, value) => {
    const { apiKey } = await mintKey();
    const res = await callWith({ [setting]: value }, "/api/v1/x", { headers: { "X-API-Key": apiKey } });
    expect(res.status).toBe(503);
    expect((await problemOf(res)).code).toBe("authorizer_unavailable");
    expect(res.headers.get("Retry-After")).toBe(String(CONFIG_RETRY_AFTER_S));
  });
});

describe("origin connection", () => {
  it("forwards to ORIGIN_URL, keeping its base path, when it is set", async () => {
    const { apiKey } = await mintKey();
    const res = await callWith({ ORIGIN_URL: "https://origin.example.com/base/" }, "/api/v1/x?y=1", {
      headers: { "X-API-Key": apiKey },
    });
    expect(res.status).toBe(200);
    const echo = (await res.json()) as Echo;
    expect(echo.url).toBe("https://origin.example.com/base/api/v1/x?y=1");
  });

  it("signs forwarded requests when ORIGIN_SIGNING_SECRET is set, so the origin can verify them", async () => {
    const { apiKey, id } = await mintKey();
    const secret = "origin-signing-secret-for-tests";
    const res = await callWith({ ORIGIN_SIGNING_SECRET: secret }, "/api/v1/orders", {
      headers: { "X-API-Key": apiKey },
    });
    const echo = (await res.json()) as Echo;
    const header = echo.headers["x-auth-signature"]!;
    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
    expect(match).not.toBeNull();
    const timestamp = Number(match![1]);
    expect(timestamp).toBe(epochSeconds(testClock.now()));
    expect(match![2]).toBe(await hmacSha256Hex(secret, signaturePayload(timestamp, "GET", "/api/v1/orders", id)));
    expect(match![2]).not.toBe(await hmacSha256Hex(secret, signaturePayload(timestamp, "GET", "/api/v1/other", id)));
  });

  it("a client cannot forge the signature header", async () => {
    const { apiKey } = await mintKey();
    const res = await callWith({}, "/api/v1/x", {
      headers: { "X-API-Key": apiKey, "X-Auth-Signature": "t=1,v1=forged" },
    });
    expect(((await res.json()) as Echo).headers["x-auth-signature"]).toBeUndefined();
  });

  // On the real clock: the one test of a deadline through the runtime's own timers (the others drive the test clock).
  it("answers 504 origin_timeout when the origin is too slow", async () => {
    useRealClock();
    const { apiKey } = await mintKey();
    const res = await callWith({ ORIGIN_TIMEOUT_MS: "100" }, "/slow", { headers: { "X-API-Key": apiKey } });
    expect(res.status).toBe(504);
    expect((await problemOf(res)).code).toBe("origin_timeout");
  });

  it("an ORIGIN_URL origin has the same deadline: 504 origin_timeout once ORIGIN_TIMEOUT_MS has passed", async () => {
    const { apiKey } = await mintKey();
    const trace = crypto.randomUUID();
    const settings = { ORIGIN_URL: "https://hang.test/", ORIGIN_TIMEOUT_MS: "100" };
    const response = callWith(settings, "/api/v1/x", { headers: { "X-API-Key": apiKey, "X-Test-Trace": trace } });
    await until(() => originSaw(trace), "the request at the origin");
    expect(testClock.pendingDeadlines).toBe(1); // the origin's, and nothing else
    testClock.advance(99);
    expect(await hasSettled(response)).toBe(false);
    testClock.advance(1);
    const res = await response;
    expect(res.status).toBe(504);
    expect((await problemOf(res)).code).toBe("origin_timeout");
    expect(testClock.pendingDeadlines).toBe(0);
  });

  it("the deadline is for the origin's headers: a body that streams for longer arrives whole", async () => {
    const { apiKey } = await mintKey();
    const res = await callWith({ ORIGIN_TIMEOUT_MS: "100" }, "/stream", { headers: { "X-API-Key": apiKey } });
    expect(res.status).toBe(200);
    expect(testClock.pendingDeadlines).toBe(0); // ended with the headers
    testClock.advance(10_000); // far past the deadline while the body streams (for 360 ms of real time)
    expect(await res.text()).toBe("data: 1\n\ndata: 2\n\ndata: 3\n\n");
  });

  it("answers 502 origin_unreachable when the origin fails", async () => {
    const { apiKey } = await mintKey();
    const broken = { fetch: async () => Promise.reject(new Error("connection refused")) } as unknown as Fetcher;
    const res = await callWith({ ORIGIN: broken }, "/api/v1/x", { headers: { "X-API-Key": apiKey } });
    expect(res.status).toBe(502);
    expect((await problemOf(res)).code).toBe("origin_unreachable");
  });

  it("answers 503 when no origin is configured at all", async () => {
    const { apiKey } = await mintKey();
    const res = await callWith({ ORIGIN: undefined, ORIGIN_URL: "" }, "/api/v1/x", {
      headers: { "X-API-Key": apiKey },
    });
    expect(res.status).toBe(503);
  });
});
