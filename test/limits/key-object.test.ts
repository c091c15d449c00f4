/**
 * Per-key limits and the key's live state, through the real gateway, the real key object and its storage.
 */
import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/keys/hash";
import { clearIsolateCaches, kvKeyFor } from "../../src/keys/lookup";
import { LEASE_MS, STATE_REFRESH_MS } from "../../src/limits/key-object";
import { forgetLeases } from "../../src/limits/leases";
import { breakingKeyObjects, readOnlyD1 } from "../faults/wrappers";
import { flush } from "../monitoring/helpers";
import { call, callWith, countingD1, mintKey, originSaw, problemOf, revoke } from "../helpers";
import { testClock, until, useRealClock } from "../clock";
import { DAY_MS } from "../../src/util/time";

const stubFor = (lineageId: string) => env.KEY_OBJECT.get(env.KEY_OBJECT.idFromName(lineageId));
const get = (apiKey: string, headers: Record<string, string> = {}) =>
  call("/api/v1/x", { headers: { "X-API-Key": apiKey, ...headers } });

/** How many acquire() calls a wrapped KEY_OBJECT namespace (breakingKeyObjects) saw. */
const acquires = (calls: string[]) => calls.filter((name) => name === "acquire").length;

beforeEach(() => clearIsolateCaches());

describe("limits", () => {
  it("admits exactly L of 3L concurrent requests, and the rest are 429 rate_limited", async () => {
    const L = 10;
    const { apiKey } = await mintKey({ rate_limits: [{ name: "hour", limit: L, window_seconds: 3600 }] });
    const responses = await Promise.all(Array.from({ length: 3 * L }, () => get(apiKey)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(L);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2 * L);
    const refused = responses.find((r) => r.status === 429)!;
    const body = await problemOf(refused);
    expect(body.code).toBe("rate_limited");
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(Number(refused.headers.get("Retry-After"))).toBeLessThanOrEqual(3600);
    expect(refused.headers.get("RateLimit-Policy")).toBe('"hour";q=10;w=3600');
    expect(refused.headers.get("RateLimit")).toMatch(/^"hour";r=0;t=\d+$/);
  });

  it("sends RateLimit-Policy and RateLimit on every authorized response", async () => {
    const { apiKey } = await mintKey({
      rate_limits: [
        { name: "hour", limit: 1000, window_seconds: 3600 },
        { name: "day", limit: 3, window_seconds: 86_400 },
      ],
    });
    const first = await get(apiKey);
    expect(first.status).toBe(200);
    expect(first.headers.get("RateLimit-Policy")).toBe('"hour";q=1000;w=3600, "day";q=3;w=86400');
    expect(first.headers.get("RateLimit")).toMatch(/^"day";r=2;t=\d+$/);
    expect((await get(apiKey)).headers.get("RateLimit")).toMatch(/^"day";r=1;/);
  });

  it("refuses past a daily limit as quota_exceeded, never cacheable", async () => {
    const { apiKey } = await mintKey({ rate_limits: [{ name: "daily", limit: 2, window_seconds: 86_400 }] });
    expect((await get(apiKey)).status).toBe(200);
    expect((await get(apiKey)).status).toBe(200);
    const refused = await get(apiKey);
    expect(refused.status).toBe(429);
    expect((await problemOf(refused)).code).toBe("quota_exceeded");
  });

  it("a refused request consumes nothing from any limit", async () => {
    const { apiKey, id } = await mintKey({
      rate_limits: [
        { name: "hour", limit: 2, window_seconds: 3600 },
        { name: "day", limit: 5, window_seconds: 86_400 },
      ],
    });
    for (let i = 0; i < 2; i++) expect((await get(apiKey)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await get(apiKey)).status).toBe(429);
    // Ask the object directly, past the isolate's denial cache: the day limit still has 3 left.
    forgetLeases(id);
    const result = await stubFor(id).acquire({ keyId: id, version: 1, want: 1 });
    expect(result).toMatchObject({ ok: false, code: "rate_limited" });
    const states = "limits" in result ? result.limits : [];
    expect(states.map((s) => [s.name, s.remaining])).toEqual([
      ["hour", 0],
      ["day", 3],
    ]);
  });

  it("resets when the window ends", async () => {
    const { apiKey } = await mintKey({ rate_limits: [{ name: "second", limit: 1, window_seconds: 1 }] });
    testClock.advanceToNextWindow(1);
    expect((await get(apiKey)).status).toBe(200);
    testClock.advance(999);
    const refused = await get(apiKey);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("Retry-After")).toBe("1");
    testClock.advance(1);
    expect((await get(apiKey)).status).toBe(200);
  });

  it("the isolate refuses a key over its limit without calling its object again", async () => {
    const { apiKey } = await mintKey({ rate_limits: [{ name: "hour", limit: 1, window_seconds: 3600 }] });
    const { ns, calls } = breakingKeyObjects({});
    const request = () => callWith({ KEY_OBJECT: ns }, "/api/v1/x", { headers: { "X-API-Key": apiKey } });
    expect((await request()).status).toBe(200);
    expect((await request()).status).toBe(429);
    expect(acquires(calls)).toBe(2);
    for (let i = 0; i < 10; i++) expect((await request()).status).toBe(429);
    expect(acquires(calls)).toBe(2);
  });

  it("keeps its counts across an eviction of the object", async () => {
    const { apiKey, id } = await mintKey({ rate_limits: [{ name: "hour", limit: 5, window_seconds: 3600 }] });
    for (let i = 0; i < 3; i++) expect((await get(apiKey)).status).toBe(200);
    await evictDurableObject(stubFor(id));
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await get(apiKey)).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
  });

  it("keys of one lineage share one object and one set of counters", async () => {
    const first = await mintKey({ rate_limits: [{ name: "hour", limit: 4, window_seconds: 3600 }] });
    const second = await mintKey({ rate_limits: [{ name: "hour", limit: 4, window_seconds: 3600 }] });
    await env.DB.prepare("UPDATE api_keys SET lineage_id = ? WHERE id = ?").bind(first.id, second.id).run();
    const statuses = [];
    for (const key of [first, second, first, second, first, second]) statuses.push((await get(key.apiKey)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });
});

describe("leases", () => {
  it("a busy key with a large limit reaches its object on a small fraction of requests", async () => {
    const { apiKey } = await mintKey({ rate_limits: [{ name: "hour", limit: 1_000_000, window_seconds: 3600 }] });
    const { ns, calls } = breakingKeyObjects({});
    for (let i = 0; i < 100; i++) {
      const res = await callWith({ KEY_OBJECT: ns }, "/api/v1/x", { headers: { "X-API-Key": apiKey } });
      expect(res.status).toBe(200);
    }
    expect(acquires(calls)).toBeLessThan(15);
  });

  // 100 per 10 s: leases of up to 10 tokens.
  const TEN_SECONDS = [{ name: "ten", limit: 100, window_seconds: 10 }];

  it("never admits more than the limit, and in one isolate admits all of it", async () => {
    const { apiKey } = await mintKey({ rate_limits: TEN_SECONDS });
    testClock.advanceToNextWindow(10);
    let admitted = 0;
    for (let i = 0; i < 130; i++) if ((await get(apiKey)).status === 200) admitted++;
    expect(admitted).toBe(100);
  });

  it("a lease that lapses with tokens unspent can only under-admit, by at most two grants (a lease and its refill)", async () => {
    const { apiKey } = await mintKey({ rate_limits: TEN_SECONDS });
    testClock.advanceToNextWindow(10);
    let admitted = 0;
    for (let i = 0; i < 20; i++) if ((await get(apiKey)).status === 200) admitted++; // grows this isolate's lease
    testClock.advance(LEASE_MS + 100); // the lease lapses with tokens unspent, in the same window
    for (let i = 0; i < 130; i++) if ((await get(apiKey)).status === 200) admitted++;
    expect(admitted).toBeLessThanOrEqual(100);
    expect(admitted).toBeGreaterThanOrEqual(100 - 2 * 10); // at most a grant and its refill (cap 10 each) were lost
  });

  it("are timed by the test clock: the key's object runs in the test's isolate and reads the same clock", async () => {
    const { id } = await mintKey({ rate_limits: [{ name: "hour", limit: 1000, window_seconds: 3600 }] });
    testClock.advanceToNextWindow(3600);
    const lease = await stubFor(id).acquire({ keyId: id, version: 1, want: 5 });
    expect(lease.ok && lease.leaseExpiresAt).toBe(testClock.now() + LEASE_MS);
  });

  it("a change to the key makes the admin call outlast every lease of the old version", async () => {
    const { id } = await mintKey({ rate_limits: [{ name: "hour", limit: 1_000_000, window_seconds: 3600 }] });
    const stub = stubFor(id);
    const lease = await stub.acquire({ keyId: id, version: 1, want: 100 });
    expect(lease.ok && lease.granted).toBe(100);
    const leaseExpiresAt = lease.ok ? lease.leaseExpiresAt : 0;
    const { leasesExpireAt } = await stub.applyChange({
      id,
      version: 2,
      status: "revoked",
      expires_at: testClock.now() + DAY_MS,
      grace_until: null,
      rate_limits: [{ name: "hour", limit: 1_000_000, window_seconds: 3600 }],
    });
    expect(leasesExpireAt).toBeGreaterThanOrEqual(leaseExpiresAt);
    // From now on a request decided on version 1 is stale, and version 2 is refused.
    expect(await stub.acquire({ keyId: id, version: 1, want: 1 })).toMatchObject({ ok: false, code: "stale" });
    expect(await stub.acquire({ keyId: id, version: 2, want: 1 })).toMatchObject({ ok: false, code: "key_revoked" });
  });
});

describe("revocation everywhere", () => {
  it("revoking a busy key returns only once its leases have lapsed, and refuses at once afterwards", async () => {
    const { apiKey, id } = await mintKey({ rate_limits: [{ name: "hour", limit: 1_000_000, window_seconds: 3600 }] });
    for (let i = 0; i < 30; i++) expect((await get(apiKey)).status).toBe(200);
    const leasedAt = testClock.now(); // the clock stands still: this isolate's lease runs to leasedAt + LEASE_MS
    expect((await revoke(id)).status).toBe(200);
    expect(testClock.now()).toBe(leasedAt + LEASE_MS);
    expect((await problemOf(await get(apiKey))).code).toBe("key_revoked");
  });

  // The one run of this promise on the real clock: real leases, a real wait, and the refusal right after.
  it("in real time: revoking a busy key returns within about a lease, and the key is refused at once", async () => {
    useRealClock();
    const { apiKey, id } = await mintKey({ rate_limits: [{ name: "hour", limit: 1_000_000, window_seconds: 3600 }] });
    for (let i = 0; i < 30; i++) expect((await get(apiKey)).status).toBe(200);
    const started = Date.now();
    expect((await revoke(id)).status).toBe(200);
    expect(Date.now() - started).toBeLessThanOrEqual(LEASE_MS + 500);
    expect((await problemOf(await get(apiKey))).code).toBe("key_revoked");
  });

  it("a stale KV entry that still says active cannot admit a revoked key, and is overwritten", async () => {
    const { apiKey, id } = await mintKey();
    expect((await get(apiKey)).status).toBe(200);
    const kvKey = kvKeyFor(await sha256Hex(apiKey));
    const staleActive = (await env.KEY_CACHE.get(kvKey))!;
    expect(JSON.parse(staleActive).status).toBe("active");

    expect((await revoke(id)).status).toBe(200);
    // Another location still reads the old value, or a refill that started before the revocation lands now.
    await env.KEY_CACHE.put(kvKey, staleActive);
    clearIsolateCaches();
    forgetLeases(id);

    const trace = crypto.randomUUID();
    const res = await callWith({}, "/api/v1/x", { headers: { "X-API-Key": apiKey, "X-Test-Trace": trace } });
    expect((await problemOf(res)).code).toBe("key_revoked");
    expect(await originSaw(trace)).toBe(false);
    // The fresh record replaced the stale one (written in the background of that request, which callWith awaits).
    expect(JSON.parse((await env.KEY_CACHE.get(kvKey))!).status).toBe("revoked");
  });

  it("revokes many keys concurrently in about one lease period, not one per key", async () => {
    const keys = await Promise.all(
      Array.from({ length: 8 }, () =>
        mintKey({ rate_limits: [{ name: "hour", limit: 1_000_000, window_seconds: 3600 }] }),
      ),
    );
    for (const k of keys) for (let i = 0; i < 5; i++) await get(k.apiKey);
    const started = testClock.now();
    const results = await Promise.all(keys.map((k) => revoke(k.id)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(testClock.now()).toBe(started + LEASE_MS); // one lease period in all, not one per key
    for (const k of keys) expect((await get(k.apiKey)).status).toBe(401);
  });
});

/** A D1 whose every statement fails, as when D1 is down. */
describe("announced changes", () => {
  /** What an admin call writes to D1 between its announcement and its push. */
  async function writeInD1(id: string, sql: string) {
    await env.DB.prepare(`UPDATE api_keys SET ${sql}, version = version + 1 WHERE id = ?`).bind(id).run();
    const row = await env.DB.prepare(
      "SELECT id, version, status, expires_at, grace_until, rate_limits FROM api_keys WHERE id = ?",
    )
      .bind(id)
      .first<{
        id: string;
        version: number;
        status: "active" | "disabled" | "revoked";
        expires_at: number;
        grace_until: number | null;
        rate_limits: string;
      }>();
    return { ...row!, rate_limits: JSON.parse(row!.rate_limits) };
  }

  it("one change's push does not end the wait for a second change whose push failed", async () => {
    const { id } = await mintKey();
    const stub = stubFor(id);
    await stub.prepareChange(id); // A: a rename
    await stub.prepareChange(id); // B: a revocation
    const a = await writeInD1(id, "name = 'renamed'");
    await writeInD1(id, "status = 'revoked', revoked_at = 1");
    await stub.applyChange(a); // A's push arrives; B's never does
    // A request checked against A's version must not be admitted: D1 holds B's revocation.
    const asOfA = await stub.acquire({ keyId: id, version: a.version, want: 1 });
    expect(asOfA.ok).toBe(false);
    const asOfB = await stub.acquire({ keyId: id, version: a.version + 1, want: 1 });
    expect(asOfB).toMatchObject({ ok: false, code: "key_revoked" });
  });

  it("once every announced change has been pushed, requests are decided on the object's copy again", async () => {
    const { id } = await mintKey();
    const stub = stubFor(id);
    await stub.prepareChange(id);
    await stub.prepareChange(id);
    const first = await writeInD1(id, "name = 'one'");
    const second = await writeInD1(id, "name = 'two'");
    await stub.applyChange(first);
    await stub.applyChange(second);
    // What shows the object is off D1 again: a change written to D1 without an announcement (which the
    // admin routes never do) is not seen.
    await env.DB.prepare("UPDATE api_keys SET status = 'disabled', version = version + 1 WHERE id = ?").bind(id).run();
    const result = await stub.acquire({ keyId: id, version: second.version, want: 1 });
    expect(result.ok).toBe(true);
  });
});

describe("restarts", () => {
  it("a restarted object keeps its copies without re-reading D1 for each key (the read time is kept)", async () => {
    const { id } = await mintKey(); // the mint hands the key's state to its object
    const stub = stubFor(id);
    expect((await stub.acquire({ keyId: id, version: 1, want: 1 })).ok).toBe(true);
    // Seen only if the object reads D1 again (admin changes are always announced; this one is not).
    await env.DB.prepare("UPDATE api_keys SET status = 'disabled' WHERE id = ?").bind(id).run();
    await evictDurableObject(stub);
    expect((await stubFor(id).acquire({ keyId: id, version: 1, want: 1 })).ok).toBe(true);
    expect((await stubFor(id).acquire({ keyId: id, version: 1, want: 1 })).ok).toBe(true);
    // Its safety net still runs on the kept read time: past STATE_REFRESH_MS, a background read finds the change.
    testClock.advance(STATE_REFRESH_MS + 1);
    expect((await stubFor(id).acquire({ keyId: id, version: 1, want: 1 })).ok).toBe(true); // decided on the copy
    await until(async () => !(await stubFor(id).acquire({ keyId: id, version: 1, want: 1 })).ok, "the refreshed copy");
    expect(await stubFor(id).acquire({ keyId: id, version: 1, want: 1 })).toMatchObject({
      ok: false,
      code: "key_disabled",
    });
  });
});

describe("usage accounting", () => {
  const usageOf = (id: string) =>
    env.DB.prepare("SELECT usage_count, last_used_at FROM api_keys WHERE id = ?")
      .bind(id)
      .first<{ usage_count: number; last_used_at: number | null }>();

  it("counts every admission, from the object or a lease, and writes many keys in one D1 statement", async () => {
    await flush(); // what earlier tests in this file counted
    const limits = { rate_limits: [{ name: "hour", limit: 100, window_seconds: 3600 }] };
    const keys = await Promise.all([mintKey(limits), mintKey(limits), mintKey(limits)]);
    const uses = [5, 1, 3];
    for (const [i, k] of keys.entries())
      for (let n = 0; n < uses[i]!; n++) expect((await get(k.apiKey)).status).toBe(200);
    // A refused request is not usage.
    const badChecksum = `${keys[0]!.apiKey.slice(0, -1)}${keys[0]!.apiKey.endsWith("x") ? "y" : "x"}`;
    expect((await get(badChecksum)).status).toBe(401);

    const d1 = countingD1(env.DB);
    await flush({ DB: d1.db }); // the one usage flush: rollups and key rows together
    expect(d1.sql.filter((sql) => /UPDATE api_keys/.test(sql))).toHaveLength(1);
    for (const [i, k] of keys.entries()) {
      const row = await usageOf(k.id);
      expect(row!.usage_count).toBe(uses[i]);
      expect(row!.last_used_at).toBe(testClock.now());
    }
    // Nothing counted twice.
    await flush();
    expect((await usageOf(keys[0]!.id))!.usage_count).toBe(5);
  });

  it("a failed write loses those counts but never fails a request", async () => {
    const { apiKey, id } = await mintKey();
    expect((await get(apiKey)).status).toBe(200);
    await flush({ DB: readOnlyD1() });
    await flush();
    expect((await usageOf(id))!.usage_count).toBe(0);
    expect((await get(apiKey)).status).toBe(200);
  });
});

describe("faults", () => {
  it("an object that throws is 503 authorizer_unavailable, the origin is not contacted, and there is no retry", async () => {
    const { apiKey } = await mintKey();
    const { ns, calls } = breakingKeyObjects({ acquire: "throw" });
    const trace = crypto.randomUUID();
    const res = await callWith({ KEY_OBJECT: ns }, "/api/v1/x", {
      headers: { "X-API-Key": apiKey, "X-Test-Trace": trace },
    });
    expect(res.status).toBe(503);
    expect((await problemOf(res)).code).toBe("authorizer_unavailable");
    expect(res.headers.get("Retry-After")).not.toBeNull();
    expect(acquires(calls)).toBe(1);
    expect(await originSaw(trace)).toBe(false);
  });
});
