/**
 * Consumer-wide operations through the admin API: disable / enable, revoke-keys (in force at once, then
 * completed in resumable batches), and route costs spent all or nothing.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { clearIsolateCaches } from "../../src/keys/lookup";
import { REVOKE_BATCH_SIZE, runRevokeKeys } from "../../src/consumers/revoke-keys";
import { admin, call, callWith, mintKey, problemOf } from "../helpers";
import { testClock } from "../clock";

const get = (apiKey: string) => call("/api/v1/x", { headers: { "X-API-Key": apiKey } });
const consumerObject = (id: string) => env.CONSUMER_OBJECT.get(env.CONSUMER_OBJECT.idFromName(id));

async function verifyCode(key: string): Promise<string> {
  const res = await env.CALLER.fetch("https://caller.test/", {
    method: "POST",
    body: JSON.stringify({ key, method: "GET", path: "/api/v1/x" }),
  });
  return ((await res.json()) as { code: string }).code;
}

async function ensureConsumer(id: string) {
  await env.DB.prepare("INSERT OR IGNORE INTO consumers (id, created_at, updated_at) VALUES (?1, ?2, ?2)")
    .bind(id, testClock.now())
    .run();
}

/** `n` keys of a consumer written straight to D1 (minting 2,000 through the API would take minutes). */
async function insertKeys(ownerId: string, n: number) {
  const now = testClock.now();
  const rows = Array.from({ length: n }, (_, i) => {
    const id = `key_bulk${ownerId.padEnd(6, "x").slice(0, 6)}${String(i).padStart(8, "0")}`;
    return env.DB.prepare(
      `INSERT INTO api_keys (id, key_hash, prefix, hint, type, environment, owner_id, created_at, expires_at, lineage_id)
       VALUES (?1, ?2, 'sk_live_', 'abcd', 'secret', 'live', ?3, ?4, ?5, ?1)`,
    ).bind(id, `${ownerId}-${String(i).padStart(8, "0")}`.padEnd(64, "f"), ownerId, now - 1000, now + 86_400_000);
  });
  for (let i = 0; i < rows.length; i += 500) await env.DB.batch(rows.slice(i, i + 500));
}

const notRevoked = async (ownerId: string) =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE owner_id = ? AND status != 'revoked'")
    .bind(ownerId)
    .first<{ n: number }>())!.n;

beforeEach(() => clearIsolateCaches());

describe("disable and enable", () => {
  it("refuse and restore every key of the consumer through the admin API, and are audited on the consumer", async () => {
    await ensureConsumer("zeta");
    const { apiKey } = await mintKey({ owner_id: "zeta" });
    expect((await get(apiKey)).status).toBe(200);
    const disabled = await admin("/consumers/zeta/disable");
    expect(disabled.status).toBe(200);
    expect(await disabled.json()).toMatchObject({ id: "zeta", status: "disabled" });
    expect((await problemOf(await get(apiKey))).code).toBe("consumer_disabled");
    expect((await admin("/consumers/zeta/enable")).status).toBe(200);
    expect((await get(apiKey)).status).toBe(200);
    const audit = await env.DB.prepare(
      "SELECT action FROM audit_log WHERE subject_type = 'consumer' AND subject_id = 'zeta' ORDER BY id",
    ).all<{ action: string }>();
    expect(audit.results.map((r) => r.action)).toEqual(["disable", "enable"]);
  });

  it.each([["nobody"], ["."], [".."], ["%2e%2e"], ["a%2Fb"]])(
    "answers 404 for the consumer %s and changes nothing",
    async (id) => {
      const audited = async () =>
        (await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_log").first<{ n: number }>())!.n;
      const before = await audited();
      const res = await admin(`/consumers/${id}/disable`);
      // "." and ".." never reach the route: the URL is normalised first (to POST /consumers/disable, a 405).
      expect([404, 405]).toContain(res.status);
      expect(["consumer_not_found", "not_found", "method_not_allowed"]).toContain((await problemOf(res)).code);
      expect(await audited()).toBe(before);
    },
  );

  it("refuses a body with fields", async () => {
    await ensureConsumer("eta");
    const res = await admin("/consumers/eta/disable", { json: { status: "active" } });
    expect(res.status).toBe(400);
    const row = await env.DB.prepare("SELECT status FROM consumers WHERE id = 'eta'").first<{ status: string }>();
    expect(row!.status).toBe("active");
  });
});

describe("revoke-keys", () => {
  it("refuses every key at once, a key in its rotation grace included, and completes over 2,000 keys, resumably", async () => {
    const owner = "theta";
    await ensureConsumer(owner);
    const live = await mintKey({ owner_id: owner });
    const old = await mintKey({ owner_id: owner });
    const rotated = await admin(`/keys/${old.id}/rotate`, { json: { grace_period_hours: 1 } });
    expect(rotated.status).toBe(201);
    const successor = ((await rotated.json()) as { api_key: string }).api_key;
    for (const key of [live.apiKey, old.apiKey, successor]) expect((await get(key)).status).toBe(200);
    await insertKeys(owner, 2_000);
    const total = await notRevoked(owner);

    const res = await admin(`/consumers/${owner}/revoke-keys`, { json: { reason: "account closed" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: owner, revoke_progress: { total, done_at: null } });
    // In force on the very next request, before any key row has changed.
    for (const key of [live.apiKey, old.apiKey, successor]) {
      expect((await problemOf(await get(key))).code).toBe("key_revoked");
      expect(await verifyCode(key)).toBe("key_revoked");
    }

    // A run that fails part-way (D1 fails on its second batch) leaves what it did, and the next runs finish.
    let batches = 0;
    const failing = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "batch") {
          return (statements: D1PreparedStatement[]) => {
            if (++batches === 2) throw new Error("D1 unavailable");
            return target.batch(statements);
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    await expect(runRevokeKeys({ ...env, DB: failing }, owner)).rejects.toThrow();
    expect(await notRevoked(owner)).toBeLessThanOrEqual(total - REVOKE_BATCH_SIZE);
    for (let runs = 0; (await notRevoked(owner)) > 0 && runs < 20; runs++)
      await runDurableObjectAlarm(consumerObject(owner));
    expect(await notRevoked(owner)).toBe(0);

    const audited = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM audit_log WHERE consumer_id = ? AND subject_type = 'key' AND action = 'revoke'",
    )
      .bind(owner)
      .first<{ n: number }>();
    expect(audited!.n).toBe(total); // once per key, however many runs touched it
    const progress = await env.DB.prepare("SELECT revoke_progress FROM consumers WHERE id = ?")
      .bind(owner)
      .first<{ revoke_progress: string }>();
    expect(JSON.parse(progress!.revoke_progress)).toMatchObject({ total, remaining: 0, done_at: expect.any(Number) });
    // A key minted after the call works.
    const fresh = await mintKey({ owner_id: owner });
    testClock.advance(1);
    expect((await get(fresh.apiKey)).status).toBe(200);
  }, 60_000);
});

describe("route cost", () => {
  const policy = JSON.stringify([
    { route: "GET /api/v1/report", scopes: [], cost: 50 },
    { route: "GET /api/v1/huge", scopes: [], cost: 200 },
    { route: "GET /*", scopes: [] },
  ]);
  const getWithCost = (apiKey: string, path: string) =>
    callWith({ ROUTE_POLICY: policy }, path, { headers: { "X-API-Key": apiKey } });

  it("a cost-50 route against a limit of 120 admits two, refuses the third, and leaves 20", async () => {
    testClock.advanceToNextWindow(3600);
    const { apiKey } = await mintKey({ rate_limits: [{ name: "hour", limit: 120, window_seconds: 3600 }] });
    expect((await getWithCost(apiKey, "/api/v1/report")).status).toBe(200);
    const second = await getWithCost(apiKey, "/api/v1/report");
    expect(second.headers.get("RateLimit")).toMatch(/^"hour";r=20;t=\d+$/);
    const third = await getWithCost(apiKey, "/api/v1/report");
    expect(third.status).toBe(429);
    expect(third.headers.get("Retry-After")).not.toBeNull();
    const cheap = await getWithCost(apiKey, "/api/v1/other"); // cost 1: the 20 left are still there
    expect(cheap.headers.get("RateLimit")).toMatch(/^"hour";r=19;t=\d+$/);
  });

  it("a cost above a limit's whole size is refused without Retry-After, and says why", async () => {
    const { apiKey } = await mintKey({ rate_limits: [{ name: "hour", limit: 120, window_seconds: 3600 }] });
    const res = await getWithCost(apiKey, "/api/v1/huge");
    expect(res.status).toBe(429);
    expect(res.headers.get("Retry-After")).toBeNull();
    expect((await res.json()) as Record<string, unknown>).toMatchObject({
      code: "rate_limited",
      detail: expect.stringMatching(/never/),
    });
  });

  it("a policy with a cost out of range fails closed", async () => {
    const { apiKey } = await mintKey();
    const bad = JSON.stringify([{ route: "GET /*", scopes: [], cost: 0 }]);
    const res = await callWith({ ROUTE_POLICY: bad }, "/api/v1/x", { headers: { "X-API-Key": apiKey } });
    expect(res.status).toBe(503);
  });
});
