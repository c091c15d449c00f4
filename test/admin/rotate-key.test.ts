/** POST /admin/v1/keys/{id}/rotate (src/operations/rotate-key.ts): a successor, and a grace end for the old key. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { RotateKeyResult } from "../../src/operations/rotate-key";
import { admin, mintKey, problemOf } from "../helpers";
import { countKeys, getKey, itRefusesWrongCredentials, through } from "./helpers";
import { testClock } from "../clock";
import { DAY_MS, HOUR_MS } from "../../src/util/time";

describe("happy path", () => {
  it("mints a successor with the same settings; both work during the grace period", async () => {
    const old = await mintKey({
      scopes: ["read", "write"],
      name: "ci",
      metadata: { app: "x" },
      allowed_routes: ["* /api/*"],
    });
    const rotatedAt = testClock.now(); // the call then waits out the old key's leases, on this clock
    const res = await admin(`/keys/${old.id}/rotate`, { json: { grace_period_hours: 2 } });
    expect(res.status).toBe(201);
    const body = (await res.json()) as RotateKeyResult;
    expect(body.api_key).not.toBe(old.apiKey);
    expect(body.key).toMatchObject({
      scopes: ["read", "write"],
      name: "ci",
      metadata: { app: "x" },
      allowed_routes: ["* /api/*"],
      rotated_from: old.id,
    });
    expect(body.previous.id).toBe(old.id);
    expect(Date.parse(String(body.previous.grace_until))).toBe(rotatedAt + 2 * HOUR_MS);
    expect(Date.parse(String(body.key.expires_at)) - Date.parse(String(body.key.created_at))).toBe(365 * DAY_MS);
    expect((await through(old.apiKey)).status).toBe(200);
    expect((await through(body.api_key)).status).toBe(200);
    expect(await getKey(old.id)).toMatchObject({ status: "active", rotated_to: body.key.id });
  });

  it("with no grace period the old key is refused as key_expired at once", async () => {
    const old = await mintKey();
    expect((await through(old.apiKey)).status).toBe(200);
    const res = await admin(`/keys/${old.id}/rotate`, { json: { grace_period_hours: 0 } });
    const { api_key } = (await res.json()) as RotateKeyResult;
    expect((await problemOf(await through(old.apiKey))).code).toBe("key_expired");
    expect((await through(api_key)).status).toBe(200);
  });

  it("the successor shares the predecessor's rate-limit counters", async () => {
    testClock.advanceToNextWindow(3600); // all of this hour's window ahead: the lease waits cannot cross into the next
    const old = await mintKey({ rate_limits: [{ name: "hour", limit: 3, window_seconds: 3600 }] });
    expect((await through(old.apiKey)).status).toBe(200);
    expect((await through(old.apiKey)).status).toBe(200);
    const { api_key } = (await (await admin(`/keys/${old.id}/rotate`)).json()) as RotateKeyResult;
    expect((await through(api_key)).status).toBe(200);
    expect((await through(api_key)).status).toBe(429);
    expect((await through(old.apiKey)).status).toBe(429);
  });

  it("labels both audit rows with the secret store the caller names", async () => {
    const old = await mintKey();
    const res = await admin(`/keys/${old.id}/rotate`, { json: { secret_store: "aws-secrets-manager" } });
    expect(res.status).toBe(201);
    const { key } = (await res.json()) as RotateKeyResult;
    const rows = await env.DB.prepare(
      "SELECT subject_id, changes FROM audit_log WHERE action = 'rotate' AND subject_id IN (?, ?) ORDER BY subject_id",
    )
      .bind(old.id, key.id)
      .all<{ subject_id: string; changes: string }>();
    expect(rows.results.map((r) => JSON.parse(r.changes).secret_store)).toEqual([
      "aws-secrets-manager",
      "aws-secrets-manager",
    ]);
    const unlabelled = await mintKey();
    await admin(`/keys/${unlabelled.id}/rotate`);
    const row = await env.DB.prepare("SELECT changes FROM audit_log WHERE action = 'rotate' AND subject_id = ?")
      .bind(unlabelled.id)
      .first<{ changes: string }>();
    expect(JSON.parse(row!.changes)).not.toHaveProperty("secret_store");
  });
});

describe("errors", () => {
  it("bounds the grace period and the successor's lifetime", async () => {
    const old = await mintKey();
    expect((await admin(`/keys/${old.id}/rotate`, { json: { grace_period_hours: 721 } })).status).toBe(400);
    expect((await admin(`/keys/${old.id}/rotate`, { json: { grace_period_hours: -1 } })).status).toBe(400);
    expect((await admin(`/keys/${old.id}/rotate`, { json: { expires_in_days: 366 } })).status).toBe(400);
    expect((await admin(`/keys/${old.id}/rotate`, { json: { secret_store: "1password" } })).status).toBe(400);
    expect((await admin(`/keys/${old.id}/rotate`, { json: { grace_period_hours: 1, key_hash: "x" } })).status).toBe(
      400,
    );
  });

  it("two concurrent rotations of one key yield exactly one successor", async () => {
    const old = await mintKey();
    const results = await Promise.all([
      admin(`/keys/${old.id}/rotate`),
      admin(`/keys/${old.id}/rotate`),
      admin(`/keys/${old.id}/rotate`),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    const successors = await env.DB.prepare("SELECT id FROM api_keys WHERE rotated_from = ?").bind(old.id).all();
    expect(successors.results).toHaveLength(1);
  });

  it("answers 404 for a key that does not exist, and mints nothing", async () => {
    const before = await countKeys();
    const res = await admin("/keys/key_AAAAAAAAAAAAAAAAAAAAAA/rotate");
    expect((await problemOf(res)).code).toBe("key_not_found");
    expect(await countKeys()).toBe(before);
  });
});

describe("security", () => {
  itRefusesWrongCredentials(async () => ({ method: "POST", path: `/keys/${(await mintKey()).id}/rotate` }));

  it("is 409 for a revoked, disabled, expired or already rotated key, and mints nothing", async () => {
    const revoked = await mintKey();
    await admin(`/keys/${revoked.id}/revoke`);
    const disabled = await mintKey();
    await admin(`/keys/${disabled.id}/disable`);
    const expired = await mintKey();
    await env.DB.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?")
      .bind(testClock.now() - 1, expired.id)
      .run();
    const rotated = await mintKey();
    expect((await admin(`/keys/${rotated.id}/rotate`)).status).toBe(201);
    const before = await countKeys();
    for (const key of [revoked, disabled, expired, rotated]) {
      const res = await admin(`/keys/${key.id}/rotate`);
      expect(res.status).toBe(409);
      expect((await problemOf(res)).code).toBe("key_state_conflict");
    }
    expect(await countKeys()).toBe(before);
  });

  it("the grace period never outlives the old key's own expiry", async () => {
    const old = await mintKey({ expires_in_days: 1 });
    const { previous } = (await (
      await admin(`/keys/${old.id}/rotate`, { json: { grace_period_hours: 720 } })
    ).json()) as RotateKeyResult;
    expect(previous.grace_until).toBe(old.key.expires_at);
  });
});
