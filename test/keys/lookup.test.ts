/**
 * The lookup layers under the verify path — isolate cache, KV, D1 — observed through counting wrappers around
 * the real bindings.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { generateKey } from "../../src/keys/format";
import { sha256Hex } from "../../src/keys/hash";
import { clearIsolateCaches, kvKeyFor, mayBeCached, REFUSAL_RECHECK_MS } from "../../src/keys/lookup";
import { callWith, countingD1, countingKV, mintKey, problemOf, revoke } from "../helpers";
import { testClock } from "../clock";

function counted() {
  const d1 = countingD1(env.DB);
  const kv = countingKV(env.KEY_CACHE);
  const request = (key: string) =>
    callWith({ DB: d1.db, KEY_CACHE: kv.kv }, "/api/v1/x", { headers: { "X-API-Key": key } });
  return { d1: d1.counter, kv: kv.counter, request };
}

beforeEach(() => clearIsolateCaches());

describe("cache layers", () => {
  it("first use reads D1 and fills KV; later uses are served from the isolate, then from KV", async () => {
    const { apiKey } = await mintKey();
    const c = counted();
    expect((await c.request(apiKey)).status).toBe(200);
    expect(c.d1.statements).toBe(1);
    expect(c.kv.gets).toBe(1);
    expect(c.kv.puts).toBe(1);
    const cached = JSON.parse((await env.KEY_CACHE.get(kvKeyFor(await sha256Hex(apiKey))))!);
    expect(cached.owner_id).toBe("owner-1");
    expect(JSON.stringify(cached)).not.toContain(apiKey);

    expect((await c.request(apiKey)).status).toBe(200); // isolate cache
    expect([c.d1.statements, c.kv.gets]).toEqual([1, 1]);

    clearIsolateCaches();
    expect((await c.request(apiKey)).status).toBe(200); // KV hit
    expect([c.d1.statements, c.kv.gets, c.kv.puts]).toEqual([1, 2, 1]);
  });

  it("a KV entry that is corrupt or missing a field is a miss, and D1 decides", async () => {
    const { apiKey, id } = await mintKey();
    const kvKey = kvKeyFor(await sha256Hex(apiKey));
    await revoke(id);
    clearIsolateCaches();
    // A stale or tampered cache entry claiming "active" without the fields a record has.
    for (const corrupt of [
      "{not json",
      JSON.stringify({ status: "active" }),
      JSON.stringify({ id, status: "active", expires_at: "never" }),
    ]) {
      await env.KEY_CACHE.put(kvKey, corrupt);
      clearIsolateCaches();
      const c = counted();
      const res = await c.request(apiKey);
      expect((await problemOf(res)).code).toBe("key_revoked");
      expect(c.d1.statements).toBe(1);
    }
  });

  it("a KV read that throws is a miss, and D1 decides", async () => {
    const { apiKey } = await mintKey();
    const failingKV = new Proxy(env.KEY_CACHE, {
      get(target, prop) {
        if (prop === "get") return async () => Promise.reject(new Error("KV unavailable"));
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const res = await callWith({ KEY_CACHE: failingKV }, "/api/v1/x", { headers: { "X-API-Key": apiKey } });
    expect(res.status).toBe(200);
  });

  it("D1 failing on a cache miss answers 503 authorizer_unavailable, never 200 or 401", async () => {
    const { apiKey } = await mintKey();
    const failingD1 = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare")
          return () => {
            throw new Error("D1_ERROR: SELECT id, key_hash FROM api_keys");
          };
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const res = await callWith({ DB: failingD1 }, "/api/v1/x", { headers: { "X-API-Key": apiKey } });
    expect(res.status).toBe(503);
    const text = await res.clone().text();
    expect(text).not.toContain("SELECT");
    expect(text).not.toContain("D1_ERROR");
    expect((await problemOf(res)).code).toBe("authorizer_unavailable");
    expect(res.headers.get("Retry-After")).not.toBeNull();
  });
});

describe("refusals on an old copy", () => {
  /**
   * What an admin change made through another isolate does everywhere but here: D1, KV and the key's
   * object are updated, and this isolate's copy is left as it was.
   */
  async function widenAllowlistElsewhere(id: string, apiKey: string) {
    await env.DB.prepare("UPDATE api_keys SET ip_allowlist = '[]', version = version + 1 WHERE id = ?").bind(id).run();
    await env.KEY_CACHE.delete(kvKeyFor(await sha256Hex(apiKey)));
    const row = await env.DB.prepare(
      "SELECT version, status, expires_at, grace_until, rate_limits, lineage_id FROM api_keys WHERE id = ?",
    )
      .bind(id)
      .first<{
        version: number;
        status: "active";
        expires_at: number;
        grace_until: null;
        rate_limits: string;
        lineage_id: string;
      }>();
    const stub = env.KEY_OBJECT.get(env.KEY_OBJECT.idFromName(row!.lineage_id));
    await stub.applyChange({ ...row!, id, rate_limits: JSON.parse(row!.rate_limits) });
  }

  it("are confirmed on a fresh read once the copy is older than REFUSAL_RECHECK_MS, and not before", async () => {
    const { apiKey, id } = await mintKey({ ip_allowlist: ["203.0.113.0/24"] });
    const from = (ip: string) =>
      callWith({}, "/api/v1/x", { headers: { "X-API-Key": apiKey, "CF-Connecting-IP": ip } });
    expect((await from("198.51.100.7")).status).toBe(403);
    await widenAllowlistElsewhere(id, apiKey);

    testClock.advance(REFUSAL_RECHECK_MS - 1_000);
    const stale = await from("198.51.100.7");
    expect(stale.status).toBe(403); // the copy is recent enough to refuse on
    expect((await problemOf(stale)).code).toBe("ip_not_allowed");

    testClock.advance(2_000);
    expect((await from("198.51.100.7")).status).toBe(200);
  });

  it("a refused key costs one read per REFUSAL_RECHECK_MS, not one per request", async () => {
    const { apiKey, id } = await mintKey();
    expect((await revoke(id)).status).toBe(200);
    const c = counted();
    for (let i = 0; i < 5; i++) expect((await c.request(apiKey)).status).toBe(401);
    expect(c.kv.gets + c.d1.statements).toBe(2); // KV miss (purged by the revocation), then D1
    testClock.advance(REFUSAL_RECHECK_MS + 1_000);
    for (let i = 0; i < 5; i++) expect((await c.request(apiKey)).status).toBe(401);
    expect(c.kv.gets + c.d1.statements).toBe(3); // one KV read (refilled by the D1 read) confirmed the refusal
  });
});

describe("negative cache", () => {
  it("an unknown well-formed key reaches D1 once per isolate, and is never written to KV", async () => {
    const unknown = generateKey("", "secret", "live");
    const c = counted();
    for (let i = 0; i < 5; i++) expect((await c.request(unknown)).status).toBe(401);
    expect(c.d1.statements).toBe(1);
    expect(c.kv.puts).toBe(0);
  });

  it("a flood of distinct unknown keys costs one D1 read each, no more", async () => {
    const keys = Array.from({ length: 20 }, () => generateKey("", "secret", "test"));
    const c = counted();
    for (const key of [...keys, ...keys]) expect((await c.request(key)).status).toBe(401);
    expect(c.d1.statements).toBe(20);
    expect(c.kv.puts).toBe(0);
  });

  it("malformed keys never touch KV or D1", async () => {
    const c = counted();
    const key = generateKey("", "secret", "live");
    for (const bad of ["x", key.slice(0, -1), `${key.slice(0, -1)}${key.endsWith("a") ? "b" : "a"}`, `${key}0`]) {
      expect((await c.request(bad)).status).toBe(401);
    }
    expect([c.d1.statements, c.kv.gets]).toEqual([0, 0]);
  });
});

describe("revocation", () => {
  it("writes D1, purges KV and this isolate's cache; the next request is refused", async () => {
    const { apiKey, id } = await mintKey();
    const c = counted();
    expect((await c.request(apiKey)).status).toBe(200);
    const kvKey = kvKeyFor(await sha256Hex(apiKey));
    expect(await env.KEY_CACHE.get(kvKey)).not.toBeNull();

    const res = await revoke(id, "compromised laptop");
    expect(res.status).toBe(200);
    const key = (await res.json()) as Record<string, unknown>;
    expect(key.status).toBe("revoked");
    expect(key.revoke_reason).toBe("compromised laptop");
    expect(await env.KEY_CACHE.get(kvKey)).toBeNull();
    const row = await env.DB.prepare("SELECT status, revoked_at FROM api_keys WHERE id = ?")
      .bind(id)
      .first<{ status: string; revoked_at: number }>();
    expect(row?.status).toBe("revoked");
    expect(row?.revoked_at).toBeGreaterThan(0);

    expect((await problemOf(await c.request(apiKey))).code).toBe("key_revoked");
  });
});

describe("the hint index (what a throttled client's key is checked against before hashing)", () => {
  const hintOf = (key: string) => key.slice(-4);

  it("holds the hint of every cached key and of every hash remembered as unknown, and nothing once they are gone", async () => {
    const { apiKey, id } = await mintKey();
    const unknown = generateKey("", "secret", "live");
    expect([mayBeCached(hintOf(apiKey)), mayBeCached(hintOf(unknown))]).toEqual([false, false]);
    const c = counted();
    expect((await c.request(apiKey)).status).toBe(200);
    expect((await c.request(unknown)).status).toBe(401);
    expect([mayBeCached(hintOf(apiKey)), mayBeCached(hintOf(unknown))]).toEqual([true, true]);
    // A revocation purges the key's copy, and its hint with it.
    expect((await revoke(id)).status).toBe(200);
    expect(mayBeCached(hintOf(apiKey))).toBe(false);
    expect(mayBeCached(hintOf(unknown))).toBe(true);
    clearIsolateCaches();
    expect(mayBeCached(hintOf(unknown))).toBe(false);
  });
});
