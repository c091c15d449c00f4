/** The minimal admin API: the token rules, creating keys, revoking them, and the audit rows they write. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CONFIG_RETRY_AFTER_S } from "../../src/http/problem";
import { parseKey } from "../../src/keys/format";
import { sha256Hex } from "../../src/keys/hash";
import { admin, ADMIN_TOKEN, call, callWith, mintKey, problemOf, revoke } from "../helpers";
import { DAY_MS } from "../../src/util/time";

const countKeys = async () => (await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys").first<{ n: number }>())!.n;

describe("admin token", () => {
  it.each([
    ["an empty Authorization header", { Authorization: "" }],
    ["a wrong token", { Authorization: "Bearer not-the-token" }],
    ["the token with another scheme", { Authorization: `Basic ${ADMIN_TOKEN}` }],
    ["a prefix of the token", { Authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` }],
  ])("refuses %s with 401 and changes nothing", async (_label, headers) => {
    const before = await countKeys();
    const res = await admin("/keys", { headers, json: { owner_id: "x" } });
    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe("admin_unauthorized");
    expect(await countKeys()).toBe(before);
  });

  it("refuses a request with no credential at all", async () => {
    const res = await call("/admin/v1/keys", { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"owner_id":"x"}' });
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="admin"');
  });

  it("refuses an API key, even one with the admin scope", async () => {
    const { apiKey } = await mintKey({ scopes: ["admin"] });
    const attempts: Record<string, string>[] = [{ Authorization: `Bearer ${apiKey}` }, { "X-API-Key": apiKey, Authorization: "" }];
    for (const headers of attempts) {
      const res = await admin("/keys", { headers, json: { owner_id: "x" } });
      expect(res.status).toBe(401);
    }
  });

  it("refuses the token in the query string", async () => {
    const res = await admin(`/keys?token=${ADMIN_TOKEN}`, { json: { owner_id: "x" } });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toContain("key_in_query");
    expect(text).not.toContain(ADMIN_TOKEN);
  });

  it("answers 503 when no ADMIN_TOKEN is configured, whatever is presented", async () => {
    for (const token of [undefined, ""]) {
      const res = await callWith({ ADMIN_TOKEN: token }, "/admin/v1/keys", {
        method: "POST",
        headers: { Authorization: "Bearer ", "Content-Type": "application/json" },
        body: JSON.stringify({ owner_id: "x" }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get("Retry-After")).toBe(String(CONFIG_RETRY_AFTER_S)); // a configuration failure: one Retry-After for all
      expect((await problemOf(res)).code).toBe("authorizer_unavailable");
    }
  });

  it("unknown admin routes are 404 behind the token, 401 without it", async () => {
    expect((await admin("/nothing-here", { method: "GET" })).status).toBe(404);
    expect((await admin("/nothing-here", { method: "GET", headers: { Authorization: "Bearer nope" } })).status).toBe(401);
  });
});

describe("POST /admin/v1/keys", () => {
  it("mints a key shown once, stores only its hash, and answers the key object", async () => {
    const res = await admin("/keys", { json: { owner_id: "team-a", name: "CI deploys", scopes: ["read", "write"] } });
    expect(res.status).toBe(201);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const { api_key, key } = (await res.json()) as { api_key: string; key: Record<string, unknown> };
    expect(parseKey(api_key, "")).toMatchObject({ type: "secret", environment: "live", prefix: "sk_live_" });
    expect(key).toMatchObject({
      prefix: "sk_live_",
      hint: api_key.slice(-4),
      type: "secret",
      environment: "live",
      owner_id: "team-a",
      name: "CI deploys",
      scopes: ["read", "write"],
      rate_limits: [{ name: "hour", limit: 1000, window_seconds: 3600 }],
      ip_allowlist: [],
      status: "active",
      usage_count: 0,
    });
    expect(key.id).toMatch(/^key_[0-9A-Za-z]{22}$/);
    expect(String(key.id)).not.toContain(api_key.slice(8, 16));
    const lifetime = Date.parse(String(key.expires_at)) - Date.parse(String(key.created_at));
    expect(lifetime).toBe(365 * DAY_MS);
    expect(JSON.stringify(key)).not.toContain(api_key);
    expect(Object.keys(key)).not.toContain("key_hash");

    const row = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?").bind(key.id).first<Record<string, unknown>>();
    expect(row!.key_hash).toBe(await sha256Hex(api_key));
    expect(Object.values(row!).some((v) => String(v).includes(api_key))).toBe(false);
  });

  it("mints publishable and test keys with their prefixes", async () => {
    const { apiKey, key } = await mintKey({ type: "publishable", environment: "test" });
    expect(apiKey.startsWith("pk_test_")).toBe(true);
    expect(key.prefix).toBe("pk_test_");
  });

  it("uses the vendor prefix when KEY_VENDOR_PREFIX is set", async () => {
    const res = await callWith({ KEY_VENDOR_PREFIX: "acme" }, "/admin/v1/keys", {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ owner_id: "o" }),
    });
    const { api_key } = (await res.json()) as { api_key: string };
    expect(api_key.startsWith("acme_sk_live_")).toBe(true);
    const through = await callWith({ KEY_VENDOR_PREFIX: "acme" }, "/x", { headers: { "X-API-Key": api_key } });
    expect(through.status).toBe(200);
    // The same key under a deployment without the vendor part does not parse.
    const without = await callWith({}, "/x", { headers: { "X-API-Key": api_key } });
    expect((await problemOf(without)).code).toBe("invalid_key");
  });

  it("writes a create audit row in the same batch, with the settings and no secret", async () => {
    const { apiKey, id } = await mintKey({ scopes: ["write"] });
    const rows = await env.DB.prepare("SELECT * FROM audit_log WHERE key_id = ?").bind(id).all<Record<string, string>>();
    expect(rows.results).toHaveLength(1);
    const row = rows.results[0]!;
    expect(row).toMatchObject({ actor: "ADMIN_TOKEN", action: "create", key_id: id });
    expect(row.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(row.changes!).scopes).toEqual(["write"]);
    expect(row.changes).not.toContain(apiKey);
    expect(row.changes).not.toContain(await sha256Hex(apiKey));
  });

  it.each([
    ["no owner_id", {}],
    ["an unknown field", { owner_id: "o", scope: ["read"] }],
    ["a bad type", { owner_id: "o", type: "root" }],
    ["a scope with bad characters", { owner_id: "o", scopes: ["Read All"] }],
    ["a publishable key with write", { owner_id: "o", type: "publishable", scopes: ["write"] }],
    ["allowed_origins on a secret key", { owner_id: "o", allowed_origins: ["https://a.example"] }],
    ["an origin with a path", { owner_id: "o", type: "publishable", allowed_origins: ["https://a.example/x"] }],
    ["a CIDR with host bits", { owner_id: "o", ip_allowlist: ["10.0.0.1/8"] }],
    ["an octal address", { owner_id: "o", ip_allowlist: ["010.0.0.0/8"] }],
    ["a zone id", { owner_id: "o", ip_allowlist: ["fe80::1%eth0"] }],
    ["a mask out of range", { owner_id: "o", ip_allowlist: ["2001:db8::/129"] }],
    ["a malformed route", { owner_id: "o", allowed_routes: ["GET api/x"] }],
    ["a route with a dot segment", { owner_id: "o", allowed_routes: ["GET /api/../admin"] }],
    ["a lifetime over the maximum", { owner_id: "o", expires_in_days: 366 }],
    ["a zero lifetime", { owner_id: "o", expires_in_days: 0 }],
    ["a fractional lifetime", { owner_id: "o", expires_in_days: 1.5 }],
    ["metadata over 1 KB", { owner_id: "o", metadata: { blob: "x".repeat(1100) } }],
    ["metadata that is a list", { owner_id: "o", metadata: [1, 2] }],
    ["a __proto__ metadata key", { owner_id: "o", metadata: JSON.parse('{"__proto__": {"admin": true}}') }],
    ["duplicate limit names", { owner_id: "o", rate_limits: [{ name: "h", limit: 1, window_seconds: 1 }, { name: "h", limit: 2, window_seconds: 2 }] }],
    ["a zero limit", { owner_id: "o", rate_limits: [{ name: "h", limit: 0, window_seconds: 60 }] }],
    ["an owner id with a newline", { owner_id: "a\nb" }],
  ])("refuses %s with 400 invalid_request and stores nothing", async (_label, body) => {
    const before = await countKeys();
    const res = await admin("/keys", { json: body });
    expect(res.status).toBe(400);
    const problem = (await problemOf(res)) as unknown as { code: string; errors: { path: string; message: string }[] };
    expect(problem.code).toBe("invalid_request");
    expect(problem.errors.length).toBeGreaterThan(0);
    expect(await countKeys()).toBe(before);
  });

  it("refuses bodies that are not JSON, not declared as JSON, or too large", async () => {
    const before = await countKeys();
    const notJson = await admin("/keys", { headers: { "Content-Type": "application/json" }, body: "{owner_id:" });
    expect((await problemOf(notJson)).code).toBe("invalid_request");
    const wrongType = await admin("/keys", { headers: { "Content-Type": "text/plain" }, body: '{"owner_id":"o"}' });
    expect(wrongType.status).toBe(415);
    const huge = await admin("/keys", { json: { owner_id: "o", name: "x".repeat(20_000) } });
    expect(huge.status).toBe(413);
    // Streamed without a Content-Length: the limit still holds.
    const stream = new Blob([JSON.stringify({ owner_id: "o", name: "x".repeat(20_000) })]).stream();
    const streamed = await admin("/keys", { headers: { "Content-Type": "application/json" }, body: stream, duplex: "half" } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await countKeys()).toBe(before);
  });

  it("accepts a lifetime up to MAX_KEY_LIFETIME_DAYS, which is configurable", async () => {
    const res = await callWith({ MAX_KEY_LIFETIME_DAYS: "30" }, "/admin/v1/keys", {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ owner_id: "o", expires_in_days: 31 }),
    });
    expect(res.status).toBe(400);
    const { key } = await mintKey({ expires_in_days: 7 });
    expect(Date.parse(String(key.expires_at)) - Date.parse(String(key.created_at))).toBe(7 * DAY_MS);
  });
});

describe("POST /admin/v1/keys/{id}/revoke", () => {
  it("is idempotent: a second revocation keeps the first reason and writes no second audit row", async () => {
    const { id } = await mintKey();
    const first = await revoke(id, "leaked in a log");
    expect(first.status).toBe(200);
    const second = await revoke(id, "another reason");
    expect(second.status).toBe(200);
    const key = (await second.json()) as Record<string, unknown>;
    expect(key.status).toBe("revoked");
    expect(key.revoke_reason).toBe("leaked in a log");
    const audits = await env.DB.prepare("SELECT action FROM audit_log WHERE key_id = ? ORDER BY id").bind(id).all();
    expect(audits.results.map((r) => r.action)).toEqual(["create", "revoke"]);
  });

  it("accepts no body", async () => {
    const { id } = await mintKey();
    const res = await revoke(id);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Record<string, unknown>).revoke_reason).toBeNull();
  });

  it.each(["key_doesnotexist000000000", "key_' OR '1'='1", "nope", "key_AAAAAAAAAAAAAAAAAAAAAA"])(
    "answers 404 for the id %s and changes nothing",
    async (id) => {
      const { id: other } = await mintKey();
      const res = await revoke(encodeURIComponent(id));
      expect(res.status).toBe(404);
      expect((await problemOf(res)).code).toBe("key_not_found");
      const row = await env.DB.prepare("SELECT status FROM api_keys WHERE id = ?").bind(other).first<{ status: string }>();
      expect(row?.status).toBe("active");
    },
  );

  it("refuses a reason that is not a short printable string", async () => {
    const { id } = await mintKey();
    for (const reason of ["", "x".repeat(201), "a\u0000b", 42]) {
      const res = await admin(`/keys/${id}/revoke`, { json: { reason } });
      expect(res.status).toBe(400);
    }
    const row = await env.DB.prepare("SELECT status FROM api_keys WHERE id = ?").bind(id).first<{ status: string }>();
    expect(row?.status).toBe("active");
  });

  it("when the KV purge fails after D1 was written, answers 503, and a retry completes the revocation", async () => {
    const { apiKey, id } = await mintKey();
    const failingKV = new Proxy(env.KEY_CACHE, {
      get(target, prop) {
        if (prop === "delete") return async () => Promise.reject(new Error("KV unavailable"));
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const request = () =>
      new Request(`https://authorizer.test/admin/v1/keys/${id}/revoke`, {
        method: "POST",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      });
    await env.KEY_CACHE.put(`key:v1:${await sha256Hex(apiKey)}`, "stale");
    const failed = await callWith({ KEY_CACHE: failingKV }, new URL(request().url).pathname, { method: "POST", headers: request().headers });
    expect(failed.status).toBe(503);
    expect(await env.KEY_CACHE.get(`key:v1:${await sha256Hex(apiKey)}`)).toBe("stale");
    const retried = await revoke(id);
    expect(retried.status).toBe(200);
    expect(await env.KEY_CACHE.get(`key:v1:${await sha256Hex(apiKey)}`)).toBeNull();
  });
});
