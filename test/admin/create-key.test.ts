/** POST /admin/v1/keys (src/operations/create-key.ts): minting a key, its audit row, and what is refused. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseKey } from "../../src/keys/format";
import { sha256Hex } from "../../src/keys/hash";
import type { CreateKeyResult } from "../../src/operations/create-key";
import { admin, ADMIN_TOKEN, callWith, mintKey, problemOf } from "../helpers";
import { countKeys, itRefusesWrongCredentials } from "./helpers";
import { DAY_MS } from "../../src/util/time";

describe("happy path", () => {
  it("mints a key shown once, stores only its hash, and answers the key object", async () => {
    const res = await admin("/keys", { json: { owner_id: "team-a", name: "CI deploys", scopes: ["read", "write"] } });
    expect(res.status).toBe(201);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const { api_key, key } = (await res.json()) as CreateKeyResult;
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

    const row = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?")
      .bind(key.id)
      .first<Record<string, unknown>>();
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
    const { api_key } = (await res.json()) as CreateKeyResult;
    expect(api_key.startsWith("acme_sk_live_")).toBe(true);
    const through = await callWith({ KEY_VENDOR_PREFIX: "acme" }, "/x", { headers: { "X-API-Key": api_key } });
    expect(through.status).toBe(200);
    // The same key under a deployment without the vendor part does not parse.
    const without = await callWith({}, "/x", { headers: { "X-API-Key": api_key } });
    expect((await problemOf(without)).code).toBe("invalid_key");
  });

  it("writes a create audit row in the same batch, with the settings and no secret", async () => {
    const { apiKey, id } = await mintKey({ scopes: ["write"] });
    const rows = await env.DB.prepare("SELECT * FROM audit_log WHERE subject_type = 'key' AND subject_id = ?")
      .bind(id)
      .all<Record<string, string>>();
    expect(rows.results).toHaveLength(1);
    const row = rows.results[0]!;
    expect(row).toMatchObject({ actor: "ADMIN_TOKEN", action: "create", subject_id: id, consumer_id: "owner-1" });
    expect(row.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(row.changes!).scopes).toEqual(["write"]);
    expect(row.changes).not.toContain(apiKey);
    expect(row.changes).not.toContain(await sha256Hex(apiKey));
  });

  it("labels the audit row with the secret store the caller names, and only then", async () => {
    const stored = await mintKey({ secret_store: "vault" });
    const plain = await mintKey();
    const changesOf = async (id: string) =>
      JSON.parse(
        (await env.DB.prepare("SELECT changes FROM audit_log WHERE subject_id = ?")
          .bind(id)
          .first<{ changes: string }>())!.changes,
      ) as Record<string, unknown>;
    expect((await changesOf(stored.id)).secret_store).toBe("vault");
    expect(await changesOf(plain.id)).not.toHaveProperty("secret_store");
    // A label, not a setting: the key itself does not carry it.
    expect(stored.key).not.toHaveProperty("secret_store");
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

describe("errors", () => {
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
    [
      "duplicate limit names",
      {
        owner_id: "o",
        rate_limits: [
          { name: "h", limit: 1, window_seconds: 1 },
          { name: "h", limit: 2, window_seconds: 2 },
        ],
      },
    ],
    ["a zero limit", { owner_id: "o", rate_limits: [{ name: "h", limit: 0, window_seconds: 60 }] }],
    ["an owner id with a newline", { owner_id: "a\nb" }],
    ["an unknown secret store", { owner_id: "o", secret_store: "keepass" }],
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
    const streamed = await admin("/keys", {
      headers: { "Content-Type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await countKeys()).toBe(before);
  });

  it("answers 503 and mints nothing when MAX_KEY_LIFETIME_DAYS is malformed", async () => {
    const before = await countKeys();
    const res = await callWith({ MAX_KEY_LIFETIME_DAYS: "forever" }, "/admin/v1/keys", {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ owner_id: "o" }),
    });
    expect(res.status).toBe(503);
    expect((await problemOf(res)).code).toBe("authorizer_unavailable");
    expect(await countKeys()).toBe(before);
  });
});

describe("security", () => {
  itRefusesWrongCredentials(async () => ({ method: "POST", path: "/keys", json: { owner_id: "x" } }));

  it.each([
    ["id", { id: "key_AAAAAAAAAAAAAAAAAAAAAA" }],
    ["status", { status: "revoked" }],
    ["usage_count", { usage_count: 5 }],
    ["lineage_id", { lineage_id: "key_AAAAAAAAAAAAAAAAAAAAAA" }],
  ])("refuses a body that sets %s (no mass assignment) and stores nothing", async (_label, extra) => {
    const before = await countKeys();
    const res = await admin("/keys", { json: { owner_id: "o", ...extra } });
    expect(res.status).toBe(400);
    expect(await countKeys()).toBe(before);
  });

  it("the secret appears in the create answer only: never in a read, a list or the audit log", async () => {
    const { apiKey, id } = await mintKey({ owner_id: "shown-once" });
    for (const path of [`/keys/${id}`, "/keys?owner_id=shown-once", `/audit?key_id=${id}`]) {
      const text = await (await admin(path, { method: "GET" })).text();
      expect(text).toContain(id);
      expect(text).not.toContain(apiKey);
    }
  });
});
