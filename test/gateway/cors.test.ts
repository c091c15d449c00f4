/**
 * The CORS rules on their own (src/gateway/cors.ts): what counts as a preflight, when one is answered 204
 * and with what, and which responses a browser may read. test/gateway/config.test.ts runs them through the
 * gateway with a configured CORS_POLICY.
 */
import { describe, expect, it } from "vitest";
import type { CorsPolicy } from "../../src/config";
import { answerPreflight, corsHeaders, isPreflight } from "../../src/gateway/cors";
import { problemOf } from "../helpers";

const APP = "https://app.example.com";
const POLICY: CorsPolicy = {
  allowedOrigins: [APP, "http://localhost:8787"],
  allowedMethods: ["GET", "POST"],
  allowedHeaders: ["x-api-key", "content-type"],
  maxAgeSeconds: 300,
};
const OFF: CorsPolicy = { allowedOrigins: [], allowedMethods: [], allowedHeaders: [], maxAgeSeconds: 0 };

const request = (method: string, headers: Record<string, string>) =>
  new Request("https://authorizer.test/api/v1/x", { method, headers });
const preflight = (origin: string, method: string, requested?: string) =>
  request("OPTIONS", {
    Origin: origin,
    "Access-Control-Request-Method": method,
    ...(requested === undefined ? {} : { "Access-Control-Request-Headers": requested }),
  });

describe("isPreflight", () => {
  it("is an OPTIONS request with both Origin and Access-Control-Request-Method", () => {
    expect(isPreflight(preflight(APP, "POST"))).toBe(true);
    expect(isPreflight(request("OPTIONS", { Origin: APP }))).toBe(false);
    expect(isPreflight(request("OPTIONS", { "Access-Control-Request-Method": "POST" }))).toBe(false);
    expect(isPreflight(request("GET", { Origin: APP, "Access-Control-Request-Method": "POST" }))).toBe(false);
  });
});

describe("answerPreflight", () => {
  it("answers 204 with the policy, the caller's origin echoed, and no body", async () => {
    const res = answerPreflight(preflight(APP, "POST", "X-API-Key, Content-Type"), POLICY, "req-1");
    expect(res.status).toBe(204);
    expect(Object.fromEntries(res.headers)).toEqual({
      "access-control-allow-origin": APP,
      "access-control-allow-methods": "GET, POST",
      "access-control-allow-headers": "x-api-key, content-type",
      "access-control-max-age": "300",
      "cache-control": "no-store",
      vary: "Origin",
    });
    expect(await res.text()).toBe("");
  });

  it("reads the requested headers case-insensitively, ignoring spaces and empty items, and needs none", () => {
    expect(answerPreflight(preflight(APP, "GET", " CONTENT-type ,, x-api-key ,"), POLICY, "r").status).toBe(204);
    expect(answerPreflight(preflight(APP, "GET", ""), POLICY, "r").status).toBe(204);
    expect(answerPreflight(preflight("http://localhost:8787", "GET"), POLICY, "r").status).toBe(204);
  });

  it.each([
    ["an origin outside the policy", preflight("https://evil.example.com", "GET")],
    ["an allowed origin with a path", preflight(`${APP}/`, "GET")],
    ["an allowed origin on another scheme", preflight("http://app.example.com", "GET")],
    ["a method outside the policy", preflight(APP, "DELETE")],
    ["one header outside the policy", preflight(APP, "GET", "x-api-key, authorization")],
  ])("refuses %s: 403 origin_not_allowed, no Allow-Origin, Vary: Origin", async (_label, req) => {
    const res = answerPreflight(req, POLICY, "req-2");
    expect(res.status).toBe(403);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(res.headers.get("Vary")).toBe("Origin");
    expect(await problemOf(res)).toMatchObject({ code: "origin_not_allowed", request_id: "req-2" });
  });

  it("refuses every preflight when CORS is off", () => {
    expect(answerPreflight(preflight(APP, "GET"), OFF, "r").status).toBe(403);
  });
});

describe("corsHeaders", () => {
  it("lets an allowed origin read the response, and says the answer varies by Origin", () => {
    expect(corsHeaders(request("GET", { Origin: APP }), POLICY)).toEqual({
      "Access-Control-Allow-Origin": APP,
      Vary: "Origin",
    });
  });

  it("adds nothing for another origin or a request without one", () => {
    expect(corsHeaders(request("GET", { Origin: "https://evil.example.com" }), POLICY)).toEqual({});
    expect(corsHeaders(request("GET", {}), POLICY)).toEqual({});
  });

  it("adds nothing, and reads no header, when CORS is off", () => {
    const origin = request("GET", { Origin: APP });
    expect(corsHeaders(origin, OFF)).toEqual({});
    expect(corsHeaders(origin, OFF)).toBe(corsHeaders(request("GET", {}), OFF)); // one frozen object
    expect(Object.isFrozen(corsHeaders(origin, OFF))).toBe(true);
  });
});
