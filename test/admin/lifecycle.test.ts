/** The key lifecycle through the admin API: read, list, update, disable/enable, rotate, and the audit log. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { KeyView } from "../../src/keys/key-record";
import { admin, ADMIN_TOKEN, callWith, mintKey, problemOf } from "../helpers";
import { testClock } from "../clock";
import { DAY_MS, HOUR_MS } from "../../src/util/time";

const getKey = async (id: string) => (await (await admin(`/keys/${id}`, { method: "GET" })).json()) as KeyView;
const patch = (id: string, json: unknown) => admin(`/keys/${id}`, { method: "PATCH", json });
const through = (apiKey: string, init: RequestInit = {}) =>
  callWith({}, "/api/v1/x", { ...init, headers: { "X-API-Key": apiKey, ...(init.headers as Record<string, string>) } });
const versionOf = async (id: string) =>
  (await env.DB.prepare("SELECT version FROM api_keys WHERE id = ?").bind(id).first<{ version: number }>())!.version;

describe("GET /keys/{id}", () => {
  it("answers the key object without secrets, and 404 for unknown ids", async () => {
    const { id, apiKey } = await mintKey({ name: "reader" });
    const key = await getKey(id);
    expect(key).toMatchObject({ id, name: "reader", status: "active" });
    expect(JSON.stringify(key)).not.toContain(apiKey);
    const missing = await admin("/keys/key_AAAAAAAAAAAAAAAAAAAAAA", { method: "GET" });
    expect((await problemOf(missing)).code).toBe("key_not_found");
  });
});

describe("GET /keys", () => {
  it("filters by owner, status and environment, and pages through with cursors", async () => {
    const owner = `owner-${crypto.randomUUID().slice(0, 8)}`;
    const minted = [];
    for (let i = 0; i < 5; i++) minted.push(await mintKey({ owner_id: owner, environment: i === 4 ? "test" : "live" }));
    await admin(`/keys/${minted[0]!.id}/revoke`);
    await admin(`/keys/${minted[1]!.id}/disable`);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await admin(`/keys?owner_id=${owner}&limit=2${cursor ? `&cursor=${cursor}` : ""}`, { method: "GET" });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { keys: KeyView[]; next_cursor: string | null };
      expect(page.keys.length).toBeLessThanOrEqual(2);
      seen.push(...page.keys.map((k) => k.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen.sort()).toEqual(minted.map((m) => m.id).sort());

    const list = async (query: string) =>
      ((await (await admin(`/keys?owner_id=${owner}&${query}`, { method: "GET" })).json()) as { keys: KeyView[] }).keys.map((k) => k.id);
    expect(await list("status=revoked")).toEqual([minted[0]!.id]);
    expect(await list("status=disabled")).toEqual([minted[1]!.id]);
    expect((await list("status=active")).sort()).toEqual([minted[2]!.id, minted[3]!.id, minted[4]!.id].sort());
    expect(await list("environment=test")).toEqual([minted[4]!.id]);
  });

  it("counts a key past its expiry or grace end as expired, not active", async () => {
    const owner = `owner-${crypto.randomUUID().slice(0, 8)}`;
    const a = await mintKey({ owner_id: owner });
    const b = await mintKey({ owner_id: owner });
    await env.DB.prepare("UPDATE api_keys SET grace_until = ? WHERE id = ?").bind(testClock.now() - 1, a.id).run();
    await env.DB.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?").bind(testClock.now() - 1, b.id).run();
    const res = await admin(`/keys?owner_id=${owner}&status=expired`, { method: "GET" });
    const ids = ((await res.json()) as { keys: KeyView[] }).keys.map((k) => k.id);
    expect(ids.sort()).toEqual([a.id, b.id].sort());
    expect((await getKey(a.id)).status).toBe("expired");
  });

  it.each([
    "limit=101",
    "limit=0",
    "limit=abc",
    "status=deleted",
    "environment=prod",
    "sort=created_at",
    "owner_id=x'%20OR%20'1'='1",
    "cursor=not-a-cursor",
    "cursor=" + btoa("1:key_'; DROP TABLE api_keys;--"),
  ])("refuses %s with 400 and a field-by-field problem", async (query) => {
    const res = await admin(`/keys?${query}`, { method: "GET" });
    expect(res.status).toBe(400);
    const body = (await problemOf(res)) as unknown as { code: string; errors: unknown[] };
    expect(body.code).toBe("invalid_request");
    expect(body.errors.length).toBeGreaterThan(0);
    expect(JSON.stringify(body)).not.toMatch(/SELECT|DROP|sqlite/i);
  });
});

describe("PATCH /keys/{id}", () => {
  it("changes settings, and the change governs every request once the call returns", async () => {
    const { id, apiKey } = await mintKey({ scopes: ["read"] });
    expect((await through(apiKey, { method: "POST" })).status).toBe(403);
    const res = await patch(id, { scopes: ["read", "write"], name: "writer", metadata: { team: "a" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, scopes: ["read", "write"], name: "writer", metadata: { team: "a" } });
    expect((await through(apiKey, { method: "POST" })).status).toBe(200);

    expect((await patch(id, { ip_allowlist: ["198.51.100.0/24"] })).status).toBe(200);
    expect((await problemOf(await through(apiKey))).code).toBe("ip_not_allowed");
    expect((await patch(id, { rate_limits: [{ name: "hour", limit: 10, window_seconds: 3600 }], ip_allowlist: [] })).status).toBe(200);
    const next = await through(apiKey);
    expect(next.status).toBe(200);
    // The new limit applies to the counts already made under the same name: 1 admitted before, this one now.
    expect(next.headers.get("RateLimit-Policy")).toBe('"hour";q=10;w=3600');
    expect(next.headers.get("RateLimit")).toMatch(/^"hour";r=8;/);
  });

  it("moves expires_at within the maximum lifetime", async () => {
    const { id } = await mintKey();
    const at = new Date(testClock.now() + 10 * DAY_MS).toISOString();
    const res = await patch(id, { expires_at: at });
    expect(((await res.json()) as KeyView).expires_at).toBe(at);
    for (const bad of [new Date(testClock.now() - 1000).toISOString(), new Date(testClock.now() + 400 * DAY_MS).toISOString(), "tomorrow"]) {
      expect((await patch(id, { expires_at: bad })).status).toBe(400);
    }
  });

  it.each([
    ["id", { id: "key_AAAAAAAAAAAAAAAAAAAAAA" }],
    ["key_hash", { key_hash: "00".repeat(32) }],
    ["status", { status: "active" }],
    ["usage_count", { usage_count: 0 }],
    ["version", { version: 99 }],
    ["lineage_id", { lineage_id: "key_AAAAAAAAAAAAAAAAAAAAAA" }],
    ["owner_id", { owner_id: "someone-else" }],
    ["type", { type: "secret" }],
    ["nothing", {}],
    ["a wrong type", { scopes: "admin" }],
    ["__proto__", JSON.parse('{"__proto__": {"scopes": ["admin"]}}')],
    ["constructor", JSON.parse('{"metadata": {"constructor": {"prototype": {}}}}')],
  ])("refuses a body with %s with 400 and writes nothing", async (_label, body) => {
    const { id } = await mintKey();
    const before = await versionOf(id);
    const res = await patch(id, body);
    expect(res.status).toBe(400);
    expect(((await problemOf(res)) as unknown as { errors: unknown[] }).errors.length).toBeGreaterThan(0);
    expect(await versionOf(id)).toBe(before);
  });

  it("refuses write scopes on a publishable key, and any change to a revoked key", async () => {
    const pk = await mintKey({ type: "publishable" });
    expect((await patch(pk.id, { scopes: ["write"] })).status).toBe(400);
    const sk = await mintKey();
    await admin(`/keys/${sk.id}/revoke`);
    const res = await patch(sk.id, { name: "again" });
    expect(res.status).toBe(409);
    expect((await problemOf(res)).code).toBe("key_state_conflict");
  });
});

describe("disable and enable", () => {
  it("a disabled key is refused as key_disabled until enabled; revoked is final", async () => {
    const { id, apiKey } = await mintKey();
    expect((await through(apiKey)).status).toBe(200);
    expect(((await (await admin(`/keys/${id}/disable`)).json()) as KeyView).status).toBe("disabled");
    expect((await problemOf(await through(apiKey))).code).toBe("key_disabled");
    expect((await admin(`/keys/${id}/disable`)).status).toBe(200); // idempotent
    expect(((await (await admin(`/keys/${id}/enable`)).json()) as KeyView).status).toBe("active");
    expect((await through(apiKey)).status).toBe(200);
    await admin(`/keys/${id}/revoke`);
    expect((await admin(`/keys/${id}/enable`)).status).toBe(409);
    expect((await problemOf(await through(apiKey))).code).toBe("key_revoked");
  });
});

describe("POST /keys/{id}/rotate", () => {
  it("mints a successor with the same settings; both work during the grace period", async () => {
    const old = await mintKey({ scopes: ["read", "write"], name: "ci", metadata: { app: "x" }, allowed_routes: ["* /api/*"] });
    const rotatedAt = testClock.now(); // the call then waits out the old key's leases, on this clock
    const res = await admin(`/keys/${old.id}/rotate`, { json: { grace_period_hours: 2 } });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { api_key: string; key: KeyView; previous: { id: string; grace_until: string } };
    expect(body.api_key).not.toBe(old.apiKey);
    expect(body.key).toMatchObject({ scopes: ["read", "write"], name: "ci", metadata: { app: "x" }, allowed_routes: ["* /api/*"], rotated_from: old.id });
    expect(body.previous.id).toBe(old.id);
    expect(Date.parse(body.previous.grace_until)).toBe(rotatedAt + 2 * HOUR_MS);
    expect(Date.parse(String(body.key.expires_at)) - Date.parse(String(body.key.created_at))).toBe(365 * DAY_MS);
    expect((await through(old.apiKey)).status).toBe(200);
    expect((await through(body.api_key)).status).toBe(200);
    expect(await getKey(old.id)).toMatchObject({ status: "active", rotated_to: body.key.id });
  });

  it("with no grace period the old key is refused as key_expired at once", async () => {
    const old = await mintKey();
    expect((await through(old.apiKey)).status).toBe(200);
    const res = await admin(`/keys/${old.id}/rotate`, { json: { grace_period_hours: 0 } });
    const { api_key } = (await res.json()) as { api_key: string };
    expect((await problemOf(await through(old.apiKey))).code).toBe("key_expired");
    expect((await through(api_key)).status).toBe(200);
  });

  it("is 409 for a revoked, disabled, expired or already rotated key, and mints nothing", async () => {
    const count = async () => (await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys").first<{ n: number }>())!.n;
    const revoked = await mintKey();
    await admin(`/keys/${revoked.id}/revoke`);
    const disabled = await mintKey();
    await admin(`/keys/${disabled.id}/disable`);
    const expired = await mintKey();
    await env.DB.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?").bind(testClock.now() - 1, expired.id).run();
    const rotated = await mintKey();
    expect((await admin(`/keys/${rotated.id}/rotate`)).status).toBe(201);
    const before = await count();
    for (const key of [revoked, disabled, expired, rotated]) {
      const res = await admin(`/keys/${key.id}/rotate`);
      expect(res.status).toBe(409);
      expect((await problemOf(res)).code).toBe("key_state_conflict");
    }
    expect(await count()).toBe(before);
  });

  it("two concurrent rotations of one key yield exactly one successor", async () => {
    const old = await mintKey();
    const results = await Promise.all([admin(`/keys/${old.id}/rotate`), admin(`/keys/${old.id}/rotate`), admin(`/keys/${old.id}/rotate`)]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    const successors = await env.DB.prepare("SELECT id FROM api_keys WHERE rotated_from = ?").bind(old.id).all();
    expect(successors.results).toHaveLength(1);
  });

  it("the successor shares the predecessor's rate-limit counters", async () => {
    const old = await mintKey({ rate_limits: [{ name: "hour", limit: 3, window_seconds: 3600 }] });
    expect((await through(old.apiKey)).status).toBe(200);
    expect((await through(old.apiKey)).status).toBe(200);
    const { api_key } = (await (await admin(`/keys/${old.id}/rotate`)).json()) as { api_key: string };
    expect((await through(api_key)).status).toBe(200);
    expect((await through(api_key)).status).toBe(429);
    expect((await through(old.apiKey)).status).toBe(429);
  });

  it("bounds the grace period and the successor's lifetime", async () => {
    const old = await mintKey();
    expect((await admin(`/keys/${old.id}/rotate`, { json: { grace_period_hours: 721 } })).status).toBe(400);
    expect((await admin(`/keys/${old.id}/rotate`, { json: { grace_period_hours: -1 } })).status).toBe(400);
    expect((await admin(`/keys/${old.id}/rotate`, { json: { expires_in_days: 366 } })).status).toBe(400);
    expect((await admin(`/keys/${old.id}/rotate`, { json: { grace_period_hours: 1, key_hash: "x" } })).status).toBe(400);
  });
});

describe("GET /audit", () => {
  it("records every mutation with actor, action, request id and changed fields, newest first", async () => {
    const { id, apiKey } = await mintKey();
    await patch(id, { name: "renamed" });
    await admin(`/keys/${id}/disable`);
    await admin(`/keys/${id}/enable`);
    const rotated = (await (await admin(`/keys/${id}/rotate`)).json()) as { key: KeyView };
    await admin(`/keys/${rotated.key.id}/revoke`, { json: { reason: "done" } });

    const res = await admin(`/audit?key_id=${id}`, { method: "GET" });
    const { entries } = (await res.json()) as { entries: { action: string; actor: string; request_id: string; changes: Record<string, unknown>; at: string }[] };
    expect(entries.map((e) => e.action)).toEqual(["rotate", "enable", "disable", "update", "create"]);
    expect(entries.every((e) => e.actor === "ADMIN_TOKEN" && /^[0-9a-f-]{36}$/.test(e.request_id))).toBe(true);
    expect(entries[3]!.changes).toEqual({ name: "renamed" });
    expect(entries[0]!.changes).toMatchObject({ rotated_to: rotated.key.id });
    const successor = (await (await admin(`/audit?key_id=${rotated.key.id}`, { method: "GET" })).json()) as { entries: { action: string; changes: Record<string, unknown> }[] };
    expect(successor.entries.map((e) => e.action)).toEqual(["revoke", "rotate"]);
    expect(successor.entries[1]!.changes).toEqual({ rotated_from: id });
    expect(JSON.stringify(entries)).not.toContain(apiKey);
  });

  it("pages with a cursor", async () => {
    const { id } = await mintKey();
    for (let i = 0; i < 4; i++) await patch(id, { name: `n${i}` });
    const first = (await (await admin(`/audit?key_id=${id}&limit=3`, { method: "GET" })).json()) as { entries: unknown[]; next_cursor: string };
    expect(first.entries).toHaveLength(3);
    const second = (await (await admin(`/audit?key_id=${id}&limit=3&cursor=${first.next_cursor}`, { method: "GET" })).json()) as { entries: unknown[]; next_cursor: null };
    expect(second.entries).toHaveLength(2);
    expect(second.next_cursor).toBeNull();
  });

  it("names ADMIN_TOKEN_NEXT as the actor when that token was used", async () => {
    const next = "next-admin-token-abcdefghijklmnop";
    const res = await callWith({ ADMIN_TOKEN_NEXT: next }, "/admin/v1/keys", {
      method: "POST",
      headers: { Authorization: `Bearer ${next}`, "Content-Type": "application/json" },
      body: JSON.stringify({ owner_id: "o" }),
    });
    expect(res.status).toBe(201);
    const { key } = (await res.json()) as { key: KeyView };
    const audit = (await (await admin(`/audit?key_id=${key.id}`, { method: "GET" })).json()) as { entries: { actor: string }[] };
    expect(audit.entries[0]!.actor).toBe("ADMIN_TOKEN_NEXT");
    // Without ADMIN_TOKEN_NEXT configured, that token opens nothing.
    const refused = await callWith({}, "/admin/v1/keys", { method: "GET", headers: { Authorization: `Bearer ${next}` } });
    expect(refused.status).toBe(401);
    expect((await callWith({ ADMIN_TOKEN_NEXT: next }, "/admin/v1/keys", { method: "GET", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
  });
});

describe("GET /openapi.json", () => {
  it("documents exactly the routes that are served", async () => {
    const doc = (await (await admin("/openapi.json", { method: "GET" })).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown; parameters?: { name: string }[] }>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(
      ["POST /keys", "GET /keys", "GET /keys/{id}", "PATCH /keys/{id}", "POST /keys/{id}/revoke", "POST /keys/{id}/disable", "POST /keys/{id}/enable", "POST /keys/{id}/rotate", "GET /audit",
        // Leak ingest (src/admin/ingest-*.ts).
        "POST /leaks/gitleaks", "POST /leaks/trufflehog", "POST /leaks/scanner",
        // Monitoring (src/admin/get-usage.ts, get-key-usage.ts, list-alerts.ts, get-report.ts).
        "GET /keys/{id}/usage", "GET /usage", "GET /alerts", "GET /report"].sort(),
    );
    const { id } = await mintKey();
    for (const op of documented) {
      const [method, path] = op.split(" ") as [string, string];
      // Each documented operation is served: an empty or minimal call is answered by its handler, never 404/405.
      const res = await admin(path.replace("{id}", id), method === "GET" ? { method } : { method, json: {} });
      expect([404, 405], op).not.toContain(res.status);
    }
    // The request body schema is the one the route validates with: fields and their constraints.
    const create = doc.paths["/keys"]!.post!.requestBody as { content: { "application/json": { schema: { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean } } } };
    const schema = create.content["application/json"].schema;
    expect(Object.keys(schema.properties).sort()).toEqual(
      ["allowed_origins", "allowed_routes", "environment", "expires_in_days", "ip_allowlist", "metadata", "name", "owner_id", "rate_limits", "scopes", "type"].sort(),
    );
    expect(schema.required).toEqual(["owner_id"]);
    expect(schema.additionalProperties).toBe(false);
    expect(doc.paths["/keys"]!.get!.parameters!.map((p) => p.name)).toEqual(["owner_id", "status", "environment", "limit", "cursor"]);
  });
});
