/**
 * A consumer's shared limits and status, through the real gateway and RPC, the real key and consumer
 * objects: exact across keys, all or nothing across the two objects, in force when a change returns.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { clearIsolateCaches } from "../../src/keys/lookup";
import { changeConsumer } from "../../src/consumers/change-consumer";
import { admin, call, callWith, countingD1, mintKey, problemOf } from "../helpers";
import { LEASE_MS } from "../../src/limits/key-object";
import { testClock } from "../clock";
import { wrappingStubs } from "../faults/wrappers";

const get = (apiKey: string) => call("/api/v1/x", { headers: { "X-API-Key": apiKey } });

async function verify(key: string) {
  const res = await env.CALLER.fetch("https://caller.test/", {
    method: "POST",
    body: JSON.stringify({ key, method: "GET", path: "/api/v1/x" }),
  });
  return (await res.json()) as {
    valid: boolean;
    code: string;
    limits?: { name: string; remaining: number; subject?: string }[];
  };
}

/** Changes a consumer's row the way an admin operation does: through the consumer-change protocol. */
async function setConsumer(id: string, set: { rate_limits?: unknown[]; status?: string }) {
  const now = testClock.now();
  await env.DB.prepare("INSERT OR IGNORE INTO consumers (id, created_at, updated_at) VALUES (?1, ?2, ?2)")
    .bind(id, now)
    .run();
  await changeConsumer(env, id, async () => {
    await env.DB.prepare(
      `UPDATE consumers SET rate_limits = COALESCE(?2, rate_limits), status = COALESCE(?3, status),
         version = version + 1 WHERE id = ?1`,
    )
      .bind(id, set.rate_limits ? JSON.stringify(set.rate_limits) : null, set.status ?? null)
      .run();
  });
}

const hour = (limit: number) => [{ name: "hour", limit, window_seconds: 3600 }];
const remainingOf = (decision: Awaited<ReturnType<typeof verify>>, subject?: "consumer") =>
  decision.limits?.find((l) => l.name === "hour" && l.subject === subject)?.remaining;

beforeEach(() => {
  clearIsolateCaches();
  testClock.advanceToNextWindow(3600);
});

describe("shared limits", () => {
  it("admits exactly L of 4L concurrent requests over three keys of one consumer, none with 5xx", async () => {
    const keys = await Promise.all([1, 2, 3].map(() => mintKey({ owner_id: "acme", rate_limits: hour(1_000_000) })));
    await setConsumer("acme", { rate_limits: hour(30) });
    const responses = await Promise.all(Array.from({ length: 120 }, (_, i) => get(keys[i % 3]!.apiKey)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(30);
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    const refused = responses.find((r) => r.status === 429)!;
    expect((await problemOf(refused)).code).toBe("rate_limited");
  });

  it("a request the consumer refuses spends nothing from the key's limit", async () => {
    const { apiKey } = await mintKey({ owner_id: "beta", rate_limits: hour(100) });
    await setConsumer("beta", { rate_limits: hour(5) });
    for (let i = 0; i < 5; i++) expect((await verify(apiKey)).valid).toBe(true);
    for (let i = 0; i < 5; i++) expect((await verify(apiKey)).code).toBe("rate_limited");
    await setConsumer("beta", { rate_limits: hour(50) });
    const next = await verify(apiKey);
    expect(next.valid).toBe(true);
    expect(remainingOf(next)).toBe(100 - 6); // the five refused took nothing from the key
    expect(remainingOf(next, "consumer")).toBe(50 - 6);
  });

  it("a request the key's limit refuses spends nothing from the consumer's", async () => {
    const first = await mintKey({ owner_id: "gamma", rate_limits: hour(3) });
    const second = await mintKey({ owner_id: "gamma", rate_limits: hour(100) });
    await setConsumer("gamma", { rate_limits: hour(100) });
    for (let i = 0; i < 3; i++) expect((await verify(first.apiKey)).valid).toBe(true);
    for (let i = 0; i < 5; i++) expect((await verify(first.apiKey)).code).toBe("rate_limited");
    const other = await verify(second.apiKey);
    expect(other.valid).toBe(true);
    expect(remainingOf(other, "consumer")).toBe(100 - 4);
  });

  it("names the consumer's limits apart from the key's in the headers; a key without them keeps today's bytes", async () => {
    const plain = await mintKey({ owner_id: "plain", rate_limits: hour(1000) });
    const res = await get(plain.apiKey);
    expect(res.headers.get("RateLimit-Policy")).toBe('"hour";q=1000;w=3600');
    expect(res.headers.get("RateLimit")).toMatch(/^"hour";r=999;t=\d+$/);

    const shared = await mintKey({ owner_id: "delta", rate_limits: hour(1000) });
    await setConsumer("delta", { rate_limits: hour(10) });
    const both = await get(shared.apiKey);
    expect(both.headers.get("RateLimit-Policy")).toBe('"hour";q=1000;w=3600, "consumer.hour";q=10;w=3600');
    expect(both.headers.get("RateLimit")).toMatch(/^"consumer\.hour";r=9;t=\d+$/);
  });
});

describe("rotation", () => {
  it("a key's successor keeps the lineage's counters and the consumer's", async () => {
    const first = await mintKey({ owner_id: "iota", rate_limits: hour(100) });
    await setConsumer("iota", { rate_limits: hour(5) });
    for (let i = 0; i < 3; i++) expect((await verify(first.apiKey)).valid).toBe(true);
    const rotated = await admin(`/keys/${first.id}/rotate`, { json: { grace_period_hours: 1 } });
    const successor = ((await rotated.json()) as { api_key: string }).api_key;
    const next = await verify(successor);
    expect(remainingOf(next)).toBe(100 - 4);
    expect(remainingOf(next, "consumer")).toBe(5 - 4);
    expect((await verify(successor)).valid).toBe(true);
    expect((await verify(successor)).code).toBe("rate_limited");
    expect((await verify(first.apiKey)).code).toBe("rate_limited"); // the old key in its grace shares them
  });
});

describe("keys cached before the upgrade", () => {
  it("a key read from KV (which carries no consumer fields) gets its consumer's limits without a D1 read per request", async () => {
    const { apiKey } = await mintKey({ owner_id: "kv-era", rate_limits: hour(1_000_000) });
    await setConsumer("kv-era", { rate_limits: hour(3) });
    expect((await get(apiKey)).status).toBe(200); // fills KV
    clearIsolateCaches(); // a new isolate: the key comes from KV
    const { db, counter } = countingD1(env.DB);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await callWith({ DB: db }, "/api/v1/x", { headers: { "X-API-Key": apiKey } });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect(counter.statements).toBe(0);
  });
});

describe("disable and enable", () => {
  it("refuse every key of the consumer on the very next request, through the gateway and RPC, then restore them", async () => {
    const keys = await Promise.all([1, 2].map(() => mintKey({ owner_id: "epsilon", rate_limits: hour(1_000_000) })));
    for (const k of keys) for (let i = 0; i < 5; i++) expect((await get(k.apiKey)).status).toBe(200); // leases held
    await setConsumer("epsilon", { status: "disabled" });
    for (const k of keys) {
      const res = await get(k.apiKey);
      expect(res.status).toBe(401);
      expect((await problemOf(res)).code).toBe("consumer_disabled");
      expect((await verify(k.apiKey)).code).toBe("consumer_disabled");
    }
    await setConsumer("epsilon", { status: "active" });
    for (const k of keys) expect((await get(k.apiKey)).status).toBe(200);
  });

  it("consumer_disabled does not count toward the client's refusal throttle", async () => {
    const disabled = await mintKey({ owner_id: "mu", rate_limits: hour(1_000_000) });
    const neighbour = await mintKey({ owner_id: "nu", rate_limits: hour(1_000_000) });
    await setConsumer("mu", { status: "disabled" });
    const from = (apiKey: string) =>
      callWith({ REFUSAL_THROTTLE_LIMIT: "2" }, "/api/v1/x", {
        headers: { "X-API-Key": apiKey, "CF-Connecting-IP": "203.0.113.9" },
      });
    for (let i = 0; i < 5; i++) {
      clearIsolateCaches(); // each refusal reads storage, as a throttle-counted one would
      expect((await problemOf(await from(disabled.apiKey))).code).toBe("consumer_disabled");
    }
    clearIsolateCaches();
    expect((await from(neighbour.apiKey)).status).toBe(200); // a key that needs a storage read: not throttled
  });

  it("a disable whose push fails is 503, and the consumer's object decides on D1 meanwhile", async () => {
    const { apiKey } = await mintKey({ owner_id: "kappa", rate_limits: hour(1_000_000) });
    await setConsumer("kappa", {});
    for (let i = 0; i < 3; i++) expect((await get(apiKey)).status).toBe(200);
    const brokenPush = wrappingStubs(env.CONSUMER_OBJECT, (stub) => ({
      prepareChange: () => stub.prepareChange(),
      applyChange: async () => {
        throw new Error("Durable Object unavailable");
      },
    }));
    const res = await callWith({ CONSUMER_OBJECT: brokenPush }, "/admin/v1/consumers/kappa/disable", {
      method: "POST",
      headers: { Authorization: "Bearer test-admin-token-0123456789" },
    });
    expect(res.status).toBe(503);
    testClock.advance(LEASE_MS + 1); // leases granted before the failed call lapse
    const refused = await get(apiKey);
    expect((await problemOf(refused)).code).toBe("consumer_disabled");
    // The retry completes the change.
    expect((await admin("/consumers/kappa/disable")).status).toBe(200);
    expect((await problemOf(await get(apiKey))).code).toBe("consumer_disabled");
  });

  it("a revoke-keys whose push fails is 503, its keys are refused meanwhile, and the retry completes it", async () => {
    const { apiKey } = await mintKey({ owner_id: "lambda", rate_limits: hour(1_000_000) });
    for (let i = 0; i < 3; i++) expect((await get(apiKey)).status).toBe(200);
    const brokenPush = wrappingStubs(env.CONSUMER_OBJECT, (stub) => ({
      prepareChange: () => stub.prepareChange(),
      applyChange: async () => {
        throw new Error("Durable Object unavailable");
      },
      startRevokeKeys: (id: string) => stub.startRevokeKeys(id),
    }));
    const res = await callWith({ CONSUMER_OBJECT: brokenPush }, "/admin/v1/consumers/lambda/revoke-keys", {
      method: "POST",
      headers: { Authorization: "Bearer test-admin-token-0123456789" },
    });
    expect(res.status).toBe(503);
    testClock.advance(LEASE_MS + 1);
    expect((await problemOf(await get(apiKey))).code).toBe("key_revoked");
    expect(await verify(apiKey)).toMatchObject({ code: "key_revoked" });
    const retried = await admin("/consumers/lambda/revoke-keys");
    expect(retried.status).toBe(200);
    expect(await retried.json()).toMatchObject({ revoke_progress: { total: 1 } });
    expect((await problemOf(await get(apiKey))).code).toBe("key_revoked");
  });
});
