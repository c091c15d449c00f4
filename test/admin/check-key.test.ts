/**
 * POST /admin/v1/keys/check (src/operations/check-key.ts): what the gateway would answer, decided by the
 * gateway's pipeline in its read-only mode, with nothing spent, counted, learnt or logged.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { generateKey } from "../../src/keys/format";
import { clearIsolateCaches } from "../../src/keys/lookup";
import { LEAK_ROUTE_LIMITS } from "../../src/leaks/route-limit";
import type { CheckKeyResult } from "../../src/operations/check-key";
import { DAY_MS, MINUTE_MS } from "../../src/util/time";
import { testClock } from "../clock";
import { capturingLogs } from "../logs";
import { admin, callWith, mintKey, problemOf, revoke } from "../helpers";
import { flush, request } from "../monitoring/helpers";
import { itRefusesWrongCredentials } from "./helpers";

const check = (json: unknown) => admin("/keys/check", { json });

async function checked(json: Record<string, unknown>): Promise<CheckKeyResult> {
  const response = await check(json);
  expect(response.status).toBe(200);
  expect(response.headers.get("Cache-Control")).toBe("no-store");
  return (await response.json()) as CheckKeyResult;
}

const setConsumer = async (id: string, json: Record<string, unknown>) =>
  expect((await admin(`/consumers/${id}`, { method: "PATCH", json })).status).toBe(200);

/** Everything a decision could change: usage, networks, alerts, leaks, key rows, audit rows. */
async function d1State(): Promise<string> {
  const tables = [
    "SELECT * FROM usage_daily ORDER BY key_id, day, outcome",
    "SELECT * FROM usage_hourly ORDER BY key_id, hour, outcome",
    "SELECT * FROM usage_consumer_daily ORDER BY consumer_id, day, outcome",
    "SELECT * FROM usage_consumer_hourly ORDER BY consumer_id, hour, outcome",
    "SELECT * FROM key_networks ORDER BY key_id, network",
    "SELECT * FROM alerts ORDER BY id",
    "SELECT * FROM leak_events ORDER BY id",
    "SELECT id, status, version, usage_count, last_used_at FROM api_keys ORDER BY id",
    "SELECT COUNT(*) AS n FROM audit_log",
  ];
  const results = await env.DB.batch(tables.map((sql) => env.DB.prepare(sql)));
  return JSON.stringify(results.map((r) => r.results));
}

/** Everything a Durable Object keeps in storage (counters, lease horizons, copies of its state). */
const storageOf = (stub: DurableObjectStub) =>
  runInDurableObject(stub, async (_instance, state) => JSON.stringify([...state.storage.kv.list()]));
const keyObjectStorage = (lineage: string) => storageOf(env.KEY_OBJECT.get(env.KEY_OBJECT.idFromName(lineage)));
const consumerObjectStorage = (id: string) => storageOf(env.CONSUMER_OBJECT.get(env.CONSUMER_OBJECT.idFromName(id)));

// The check's own limit counts per principal per minute: each test starts in a fresh minute.
beforeEach(() => {
  testClock.advanceToNextWindow(60);
  clearIsolateCaches();
});

describe("happy path", () => {
  it("answers valid with the key's id and its limits and its consumer's, named as the RateLimit headers name them", async () => {
    const owner = `check-${crypto.randomUUID()}`;
    const { apiKey, id } = await mintKey({
      owner_id: owner,
      rate_limits: [{ name: "hour", limit: 5, window_seconds: 3600 }],
    });
    await setConsumer(owner, { rate_limits: [{ name: "minute", limit: 100, window_seconds: 60 }] });
    const hourEnd = new Date(Math.floor(testClock.now() / 3_600_000) * 3_600_000 + 3_600_000).toISOString();
    const minuteEnd = new Date(Math.floor(testClock.now() / 60_000) * 60_000 + 60_000).toISOString();
    expect(await checked({ api_key: apiKey })).toEqual({
      valid: true,
      code: null,
      key_id: id,
      limits: [
        { name: "hour", subject: "key", limit: 5, window_seconds: 3600, remaining: 5, reset_at: hourEnd },
        {
          name: "consumer.minute",
          subject: "consumer",
          limit: 100,
          window_seconds: 60,
          remaining: 100,
          reset_at: minuteEnd,
        },
      ],
    });
  });

  it("decides for a given method, path, address and origin as the gateway would", async () => {
    const { apiKey, id } = await mintKey({
      scopes: ["read", "write"],
      ip_allowlist: ["203.0.113.0/24"],
      allowed_routes: ["POST /api/v1/orders/*"],
    });
    const answer = await checked({ api_key: apiKey, method: "POST", path: "/api/v1/orders/7", ip: "203.0.113.9" });
    expect(answer).toMatchObject({ valid: true, code: null, key_id: id });
  });
});

describe("refusals: the code the gateway would answer", () => {
  it("an unknown key, well formed or not, is invalid_key with no key id", async () => {
    for (const api_key of [generateKey("", "secret", "live"), "not-a-key"]) {
      expect(await checked({ api_key })).toEqual({ valid: false, code: "invalid_key", key_id: null, limits: [] });
    }
  });

  it("a revoked key is key_revoked", async () => {
    const { apiKey, id } = await mintKey();
    expect((await revoke(id)).status).toBe(200);
    expect(await checked({ api_key: apiKey })).toEqual({ valid: false, code: "key_revoked", key_id: id, limits: [] });
  });

  it("an expired key is key_expired", async () => {
    const { apiKey, id } = await mintKey({ expires_in_days: 1 });
    testClock.advance(DAY_MS);
    expect(await checked({ api_key: apiKey })).toMatchObject({ valid: false, code: "key_expired", key_id: id });
  });

  it("a disabled key is key_disabled, and a key of a disabled consumer consumer_disabled", async () => {
    const { apiKey, id } = await mintKey();
    expect((await admin(`/keys/${id}/disable`)).status).toBe(200);
    expect(await checked({ api_key: apiKey })).toMatchObject({ valid: false, code: "key_disabled", key_id: id });

    const owner = `check-${crypto.randomUUID()}`;
    const other = await mintKey({ owner_id: owner });
    expect((await admin(`/consumers/${owner}/disable`)).status).toBe(200);
    expect(await checked({ api_key: other.apiKey })).toMatchObject({
      valid: false,
      code: "consumer_disabled",
      key_id: other.id,
    });
  });

  it("a route the key's scopes do not cover is insufficient_scope", async () => {
    const { apiKey, id } = await mintKey({ scopes: ["read"] });
    expect(await checked({ api_key: apiKey, method: "POST", path: "/api/v1/x" })).toMatchObject({
      valid: false,
      code: "insufficient_scope",
      key_id: id,
    });
    expect(await checked({ api_key: apiKey, method: "GET", path: "/api/v1/x" })).toMatchObject({ valid: true });
  });

  it("a route outside the key's allowed_routes is route_not_allowed; without a path the key alone is checked", async () => {
    const { apiKey, id } = await mintKey({ allowed_routes: ["GET /api/v1/public/*"] });
    expect(await checked({ api_key: apiKey, path: "/api/v1/private" })).toMatchObject({
      valid: false,
      code: "route_not_allowed",
      key_id: id,
    });
    expect(await checked({ api_key: apiKey, path: "/api/v1/public/a" })).toMatchObject({ valid: true });
    expect(await checked({ api_key: apiKey })).toMatchObject({ valid: true });
  });

  it("an address outside the key's allowlist, or none, is ip_not_allowed", async () => {
    const { apiKey, id } = await mintKey({ ip_allowlist: ["203.0.113.0/24"] });
    for (const ip of ["198.51.100.1", undefined]) {
      expect(await checked({ api_key: apiKey, ip })).toMatchObject({
        valid: false,
        code: "ip_not_allowed",
        key_id: id,
      });
    }
    expect(await checked({ api_key: apiKey, ip: "203.0.113.200" })).toMatchObject({ valid: true });
  });

  it("a key whose limit is used up is rate_limited with remaining 0, and checking it spends nothing", async () => {
    testClock.advanceToNextWindow(3600);
    const { apiKey, id } = await mintKey({ rate_limits: [{ name: "hour", limit: 2, window_seconds: 3600 }] });
    for (let i = 0; i < 5; i++) expect(await checked({ api_key: apiKey })).toMatchObject({ valid: true });
    expect(await request(apiKey)).toBe(200);
    expect(await request(apiKey)).toBe(200);
    expect(await request(apiKey)).toBe(429);
    const answer = await checked({ api_key: apiKey });
    expect(answer).toMatchObject({ valid: false, code: "rate_limited", key_id: id });
    expect(answer.limits).toMatchObject([{ name: "hour", subject: "key", limit: 2, remaining: 0 }]);
  });

  it("a daily limit used up is quota_exceeded; a consumer's shared limit used up is rate_limited", async () => {
    const daily = await mintKey({ rate_limits: [{ name: "day", limit: 1, window_seconds: 86_400 }] });
    expect(await request(daily.apiKey)).toBe(200);
    expect(await checked({ api_key: daily.apiKey })).toMatchObject({ valid: false, code: "quota_exceeded" });

    testClock.advanceToNextWindow(3600);
    const owner = `check-${crypto.randomUUID()}`;
    const shared = await mintKey({ owner_id: owner });
    await setConsumer(owner, { rate_limits: [{ name: "hour", limit: 1, window_seconds: 3600 }] });
    expect(await request(shared.apiKey)).toBe(200);
    const answer = await checked({ api_key: shared.apiKey });
    expect(answer).toMatchObject({ valid: false, code: "rate_limited", key_id: shared.id });
    expect(answer.limits.find((l) => l.subject === "consumer")).toMatchObject({ name: "consumer.hour", remaining: 0 });
  });
});

describe("no side effects", () => {
  it("many checks leave the key's and the consumer's counters, usage, networks, alerts and leaks exactly as they were", async () => {
    testClock.advanceToNextWindow(3600);
    const owner = `check-${crypto.randomUUID()}`;
    const { apiKey, id, key } = await mintKey({
      owner_id: owner,
      rate_limits: [{ name: "hour", limit: 5, window_seconds: 3600 }],
    });
    await setConsumer(owner, { rate_limits: [{ name: "hour", limit: 10, window_seconds: 3600 }] });
    const revoked = await mintKey({ owner_id: owner });
    await revoke(revoked.id);
    // One real use, its background work done: counters, rollups and a network exist.
    const first = await callWith({}, "/api/v1/x", {
      headers: { "X-API-Key": apiKey, "CF-Connecting-IP": "192.0.2.1" },
    });
    expect(first.status).toBe(200);
    await flush();
    const before = {
      d1: await d1State(),
      key: await keyObjectStorage(key.lineage_id),
      consumer: await consumerObjectStorage(owner),
    };

    const bodies = [
      { api_key: apiKey },
      { api_key: apiKey, ip: "198.51.100.7" }, // a network the key has never been used from
      { api_key: apiKey, method: "POST", path: "/api/v1/x", ip: "198.51.100.8" }, // insufficient_scope
      { api_key: revoked.apiKey, ip: "198.51.100.9" }, // revoked_key_use would count this
      { api_key: generateKey("", "secret", "live"), ip: "198.51.100.10" },
    ];
    for (let i = 0; i < 8; i++) for (const body of bodies) await checked(body);
    await flush();

    expect(await d1State()).toBe(before.d1);
    expect(await keyObjectStorage(key.lineage_id)).toBe(before.key);
    expect(await consumerObjectStorage(owner)).toBe(before.consumer);
    const usage = await env.DB.prepare("SELECT usage_count FROM api_keys WHERE id = ?")
      .bind(id)
      .first<{ usage_count: number }>();
    expect(usage?.usage_count).toBe(1);

    // The next real request finds every token the one real request left.
    const response = await callWith({}, "/api/v1/x", { headers: { "X-API-Key": apiKey } });
    expect(response.status).toBe(200);
    expect(response.headers.get("RateLimit")).toMatch(/^"hour";r=3;/);
  });

  it("checks of made-up keys do not feed the refusal throttle of the address they name", async () => {
    const ip = "203.0.113.77";
    for (let i = 0; i < 5; i++) await checked({ api_key: generateKey("", "secret", "live"), ip });
    const response = await callWith({ REFUSAL_THROTTLE_LIMIT: "3" }, "/api/v1/x", {
      headers: { "X-API-Key": generateKey("", "secret", "live"), "CF-Connecting-IP": ip },
    });
    expect(response.status).toBe(401); // throttled it would be 429, without a lookup
    expect((await problemOf(response)).code).toBe("invalid_key");
  });

  it("logs nothing of the body: a check writes no log line at all, and a refused body names no value", async () => {
    const { apiKey } = await mintKey();
    const { logs, lines } = await capturingLogs(async () => {
      await checked({ api_key: apiKey, ip: "192.0.2.5" });
      await checked({ api_key: `${apiKey}x` });
    });
    expect(logs).toEqual([]);
    const refused = await capturingLogs(() => check({ api_key: apiKey, typo: 1 }));
    expect(refused.result.status).toBe(400);
    const body = await refused.result.text();
    for (const text of [...lines, ...refused.lines, body]) expect(text).not.toContain(apiKey.slice(-12));
  });
});

describe("errors", () => {
  it.each([
    ["no api_key", {}],
    ["an unknown field", { api_key: "k", extra: true }],
    ["a method without a path", { api_key: "k", method: "POST" }],
    ["a method the gateway does not serve", { api_key: "k", method: "BREW", path: "/a" }],
    ["a non-canonical path", { api_key: "k", path: "/a/%2e%2e/b" }],
    ["a path with a query", { api_key: "k", path: "/a?key=1" }],
    ["an address that is none", { api_key: "k", ip: "999.1.1.1" }],
  ])("refuses %s with 400 invalid_request", async (_label, json) => {
    const response = await check(json);
    expect(response.status).toBe(400);
    expect((await problemOf(response)).code).toBe("invalid_request");
  });
});

/** Mints a scoped admin credential through the real API; answers its secret. */
async function credential(json: Record<string, unknown>): Promise<string> {
  const response = await admin("/credentials", { json: { name: "check-test", expires_in_days: 1, ...json } });
  expect(response.status).toBe(201);
  return ((await response.json()) as { credential: string }).credential;
}
const checkWith = (secret: string, json: unknown) =>
  admin("/keys/check", { json, headers: { Authorization: `Bearer ${secret}` } });

describe("security", () => {
  itRefusesWrongCredentials(async () => ({ method: "POST", path: "/keys/check", json: { api_key: "k" } }));

  it("needs keys:check: a credential without it is 403 forbidden_operation", async () => {
    const { apiKey } = await mintKey();
    const reader = await credential({ operations: ["keys:read"] });
    const refused = await checkWith(reader, { api_key: apiKey });
    expect(refused.status).toBe(403);
    expect((await problemOf(refused)).code).toBe("forbidden_operation");
  });

  it("a credential limited to some consumers is told a key of another is no key at all", async () => {
    const mine = `check-mine-${crypto.randomUUID()}`;
    const own = await mintKey({ owner_id: mine });
    const other = await mintKey({ owner_id: `check-other-${crypto.randomUUID()}` });
    const narrow = await credential({ operations: ["keys:check"], consumers: [mine] });
    const answer = async (apiKey: string) =>
      (await (await checkWith(narrow, { api_key: apiKey })).json()) as CheckKeyResult;
    expect(await answer(own.apiKey)).toMatchObject({ valid: true, key_id: own.id });
    expect(await answer(other.apiKey)).toEqual({ valid: false, code: "invalid_key", key_id: null, limits: [] });
    expect(await answer(generateKey("", "secret", "live"))).toEqual(await answer(other.apiKey));
  });

  it("counts each principal's checks apart: a credential is not held back by the admin token's use", async () => {
    for (let i = 0; i < LEAK_ROUTE_LIMITS.check; i++) await check({ api_key: "not-a-key" });
    expect((await check({ api_key: "not-a-key" })).status).toBe(429);
    const checker = await credential({ operations: ["keys:check"] });
    expect((await checkWith(checker, { api_key: "not-a-key" })).status).toBe(200);
  });

  it(`is limited to ${LEAK_ROUTE_LIMITS.check} checks a minute per admin principal, then 429 rate_limited`, async () => {
    for (let i = 0; i < LEAK_ROUTE_LIMITS.check; i++) expect((await check({ api_key: "not-a-key" })).status).toBe(200);
    const refused = await check({ api_key: "not-a-key" });
    expect(refused.status).toBe(429);
    expect((await problemOf(refused)).code).toBe("rate_limited");
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    testClock.advance(MINUTE_MS);
    expect((await check({ api_key: "not-a-key" })).status).toBe(200);
  });
});
