/**
 * HEAD follows GET (RFC 9110 §9.3.2): a key's `allowed_routes` rule for GET and a ROUTE_POLICY rule for GET
 * cover HEAD on the same paths, and no HEAD answer carries a body, admitted or refused.
 */
import { describe, expect, it } from "vitest";
import { callWith, mintKey, originSaw, type Echo } from "../helpers";
import { capturingLogs } from "../logs";

async function head(path: string, apiKey: string, settings: Partial<Cloudflare.Env> = {}) {
  const trace = crypto.randomUUID();
  const res = await callWith(settings, path, {
    method: "HEAD",
    headers: { "X-API-Key": apiKey, "X-Test-Trace": trace },
  });
  return { res, body: await res.text(), reached: await originSaw(trace) };
}

describe("a key's allowed_routes", () => {
  it("a GET rule admits HEAD on its paths, forwards it as HEAD, and the answer has no body", async () => {
    const { apiKey } = await mintKey({ allowed_routes: ["GET /api/v1/public/*"] });
    const { res, body, reached } = await head("/api/v1/public/x", apiKey);
    expect(res.status).toBe(200);
    expect(body).toBe("");
    expect(reached).toBe(true);
    expect(res.headers.get("RateLimit")).not.toBeNull();
    // The same request as GET shows what the origin saw: the method went through unchanged.
    const get = await callWith({}, "/api/v1/public/x", { headers: { "X-API-Key": apiKey } });
    expect(((await get.json()) as Echo).method).toBe("GET");
  });

  it("a GET rule does not admit HEAD elsewhere, and the refusal keeps its headers but has no body", async () => {
    const { apiKey } = await mintKey({ allowed_routes: ["GET /api/v1/public/*"] });
    const { res, body, reached } = await head("/api/v1/private/x", apiKey);
    expect(res.status).toBe(403);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(body).toBe("");
    expect(reached).toBe(false);
  });

  it("a HEAD rule admits HEAD only, not GET", async () => {
    const { apiKey } = await mintKey({ allowed_routes: ["HEAD /api/v1/public/*"] });
    expect((await head("/api/v1/public/x", apiKey)).res.status).toBe(200);
    const get = await callWith({}, "/api/v1/public/x", { headers: { "X-API-Key": apiKey } });
    expect(get.status).toBe(403);
  });

  it("a refused HEAD without a key keeps its challenge header and has no body", async () => {
    const res = await callWith({}, "/api/v1/x", { method: "HEAD" });
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="api"');
    expect(await res.text()).toBe("");
  });
});

describe("ROUTE_POLICY", () => {
  const ROUTE_POLICY = JSON.stringify([
    { route: "GET /api/v1/reports/*", scopes: ["reports"] },
    { route: "* /*", scopes: ["admin"] },
  ]);

  it("a GET rule gives HEAD its scopes", async () => {
    const reporter = await mintKey({ scopes: ["reports"] });
    const reader = await mintKey({ scopes: ["read"] });
    const admitted = await head("/api/v1/reports/q3", reporter.apiKey, { ROUTE_POLICY });
    expect(admitted.res.status).toBe(200);
    expect(admitted.body).toBe("");
    const refused = await head("/api/v1/reports/q3", reader.apiKey, { ROUTE_POLICY });
    expect(refused.res.status).toBe(403);
    expect(refused.res.headers.get("WWW-Authenticate")).toContain('scope="reports"');
    expect(refused.body).toBe("");
  });

  it("a HEAD rule after a GET rule for the same path is shadowed: it loads, applies the GET rule, and is named in one warning", async () => {
    const shadowing = JSON.stringify([
      { route: "GET /api/v1/docs/*", scopes: ["reports"] },
      { route: "HEAD /api/v1/docs/*", scopes: [] },
      { route: "* /*", scopes: ["admin"] },
    ]);
    const reader = await mintKey({ scopes: ["read"] });
    const { result, logs } = await capturingLogs(async () => {
      const first = await head("/api/v1/docs/a", reader.apiKey, { ROUTE_POLICY: shadowing });
      const second = await head("/api/v1/docs/b", reader.apiKey, { ROUTE_POLICY: shadowing });
      return [first.res.status, second.res.status];
    });
    // The later HEAD rule would have let any key in; the GET rule's scope applies instead.
    expect(result).toEqual([403, 403]);
    const warnings = logs.filter((l) => l.msg === "config.route_rule_shadowed");
    expect(warnings).toHaveLength(1); // parsed once behind the settings memo
    expect(warnings[0]).toMatchObject({ level: "warn", setting: "ROUTE_POLICY", count: 1, counts: { rule_1: 0 } });
    expect(logs.some((l) => l.msg === "config.invalid")).toBe(false);
  });
});
