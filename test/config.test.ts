/**
 * Parsing the deployment settings (src/config.ts) on its own: the defaults, each setting's bounds, and that a
 * malformed one is named (in the result and in one log line, never its value) instead of replaced by
 * something more permissive. test/gateway/config.test.ts runs the settings through the gateway.
 */
import { describe, expect, it } from "vitest";
import { isOrigin, loadConfig } from "../src/config";
import { DEFAULT_ROUTE_POLICY, parseRoutePolicy } from "../src/http/route-policy";
import { capturingLogs } from "./logs";

/** An env holding only these settings (the config reads nothing else). */
const settings = (vars: Record<string, string> = {}) => vars as unknown as Cloudflare.Env;

function loaded(vars: Record<string, string>) {
  const result = loadConfig(settings(vars));
  if (!result.ok) throw new Error(`refused ${result.setting}`);
  return result.config;
}

describe("loadConfig", () => {
  it("gives the documented defaults for empty settings", () => {
    expect(loaded({})).toEqual({
      vendor: "",
      maxLifetimeDays: 365,
      routePolicy: parseRoutePolicy(DEFAULT_ROUTE_POLICY)?.rules,
      cors: { allowedOrigins: [], allowedMethods: [], allowedHeaders: [], maxAgeSeconds: 0 },
      realm: "api",
      originUrl: null,
      originTimeoutMs: 30_000,
      refusalThrottle: { limit: 50, windowSeconds: 60 },
    });
    // An empty string is the default too (wrangler.toml writes every setting, most as "").
    expect(
      loaded({ MAX_KEY_LIFETIME_DAYS: "", ORIGIN_TIMEOUT_MS: "", AUTH_REALM: "", REFUSAL_THROTTLE_LIMIT: "" }),
    ).toEqual(loaded({}));
  });

  it("reads every setting at its bounds", () => {
    const config = loaded({
      KEY_VENDOR_PREFIX: "acme",
      MAX_KEY_LIFETIME_DAYS: "3650",
      ROUTE_POLICY: JSON.stringify([{ route: "GET /v1/*", scopes: ["read"] }]),
      CORS_POLICY: JSON.stringify({
        allowed_origins: ["https://app.example.com"],
        allowed_methods: ["GET"],
        allowed_headers: ["X-API-Key"],
        max_age: 86_400,
      }),
      AUTH_REALM: "orders api",
      ORIGIN_URL: "https://origin.example.com/base/",
      ORIGIN_TIMEOUT_MS: "100",
      REFUSAL_THROTTLE_LIMIT: "0",
      REFUSAL_THROTTLE_WINDOW_SECONDS: "86400",
    });
    expect(config).toMatchObject({
      vendor: "acme",
      maxLifetimeDays: 3650,
      realm: "orders api",
      originTimeoutMs: 100,
      refusalThrottle: { limit: 0, windowSeconds: 86_400 },
    });
    expect(config.routePolicy).toHaveLength(1);
    expect(config.originUrl?.href).toBe("https://origin.example.com/base/");
    // Header names are compared lower-cased; the defaults fill what the policy leaves out.
    expect(config.cors).toEqual({
      allowedOrigins: ["https://app.example.com"],
      allowedMethods: ["GET"],
      allowedHeaders: ["x-api-key"],
      maxAgeSeconds: 86_400,
    });
    expect(loaded({ CORS_POLICY: '{"allowed_origins":["https://a.example"]}' }).cors).toEqual({
      allowedOrigins: ["https://a.example"],
      allowedMethods: ["GET", "HEAD", "POST"],
      allowedHeaders: ["authorization", "x-api-key", "content-type"],
      maxAgeSeconds: 600,
    });
    expect(
      loaded({ MAX_KEY_LIFETIME_DAYS: "1", ORIGIN_TIMEOUT_MS: "300000", REFUSAL_THROTTLE_WINDOW_SECONDS: "1" }),
    ).toMatchObject({
      maxLifetimeDays: 1,
      originTimeoutMs: 300_000,
      refusalThrottle: { windowSeconds: 1 },
    });
  });

  it.each<[string, string[]]>([
    ["KEY_VENDOR_PREFIX", ["Acme", "a", "acme_", "1acme", "a".repeat(17)]],
    ["MAX_KEY_LIFETIME_DAYS", ["0", "3651", "1.5", "-1", "abc"]],
    ["ROUTE_POLICY", ["not json", "{}", '[{"route":"GET /x"}]', '["GET /x"]']],
    [
      "CORS_POLICY",
      [
        "not json",
        "null",
        '{"allowed_origins":"https://a.example"}',
        '{"allowed_origins":["https://a.example/"]}',
        '{"allowed_origins":["a.example"]}',
        '{"allowed_methods":["TRACE"]}',
        '{"allowed_headers":[1]}',
        '{"max_age":-1}',
        '{"max_age":86401}',
        '{"max_age":"600"}',
      ],
    ],
    ["AUTH_REALM", ['api"', "a\nb", "r".repeat(65)]],
    ["ORIGIN_URL", ["not a url", "ftp://origin.example", "https://origin.example/?q=1", "https://origin.example/#top"]],
    ["ORIGIN_TIMEOUT_MS", ["99", "300001", "1.5", "soon"]],
    ["REFUSAL_THROTTLE_LIMIT", ["-1", "1.5", "1000001", "many"]],
    ["REFUSAL_THROTTLE_WINDOW_SECONDS", ["0", "86401", "0.5"]],
  ])("refuses a malformed %s, naming it and never its value", async (setting, values) => {
    for (const value of values) {
      const { result, logs } = await capturingLogs(async () => loadConfig(settings({ [setting]: value })));
      expect(result, value).toEqual({ ok: false, setting });
      expect(logs).toEqual([{ level: "error", msg: "config.invalid", degraded: "config_invalid", setting }]);
    }
  });

  it("parses a set of settings once: the same answer, and one log line, until a setting changes", async () => {
    const { result, logs } = await capturingLogs(async () => {
      const first = loadConfig(settings({ AUTH_REALM: "once", MAX_KEY_LIFETIME_DAYS: "0" }));
      const again = loadConfig(settings({ AUTH_REALM: "once", MAX_KEY_LIFETIME_DAYS: "0" })); // another env object
      const changed = loadConfig(settings({ AUTH_REALM: "once", MAX_KEY_LIFETIME_DAYS: "30" }));
      return { first, again, changed };
    });
    expect(result.again).toBe(result.first);
    expect(result.changed).toMatchObject({ ok: true, config: { maxLifetimeDays: 30 } });
    expect(logs.filter((l) => l.msg === "config.invalid")).toHaveLength(1);
  });
});

describe("isOrigin", () => {
  it.each(["https://app.example.com", "http://localhost:8787", "https://[2001:db8::1]"])("accepts %s", (text) => {
    expect(isOrigin(text)).toBe(true);
  });

  it.each([
    "https://app.example.com/",
    "https://app.example.com/path",
    "app.example.com",
    "*",
    "null",
    "HTTPS://APP.example.com",
    "",
  ])("refuses %j (browsers send origins exactly as scheme://host[:port])", (text) => {
    expect(isOrigin(text)).toBe(false);
  });
});
