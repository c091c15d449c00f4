/**
 * Rotation in steps, for secret managers (src/operations/rotate-key.ts, src/operations/start-grace.ts):
 * `defer_grace`, POST /admin/v1/keys/{id}/start-grace, and a retry by `rotation_token` that replaces a
 * successor whose secret was lost.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { AuditRow } from "../../src/audit/audit-log";
import { sha256Hex } from "../../src/keys/hash";
import type { KeyView } from "../../src/keys/key-record";
import { clearIsolateCaches, kvKeyFor } from "../../src/keys/lookup";
import { forgetLeases } from "../../src/limits/leases";
import type { RotateKeyResult } from "../../src/operations/rotate-key";
import { HOUR_MS } from "../../src/util/time";
import { testClock } from "../clock";
import { breakingKeyObjects, d1Snapshot } from "../faults/wrappers";
import { ADMIN_TOKEN, admin, BASE, mintKey, problemOf, revoke } from "../helpers";
import { countKeys, getKey, itRefusesWrongCredentials, through } from "./helpers";

const rotate = async (id: string, json: Record<string, unknown>) => {
  const res = await admin(`/keys/${id}/rotate`, { json });
  return { status: res.status, body: (await res.json()) as RotateKeyResult & { code?: string } };
};
const startGrace = (id: string, json?: Record<string, unknown>) =>
  admin(`/keys/${id}/start-grace`, json === undefined ? {} : { json });
const auditOf = async (id: string) =>
  (
    await env.DB.prepare("SELECT action, changes FROM audit_log WHERE subject_id = ? ORDER BY id")
      .bind(id)
      .all<Pick<AuditRow, "action"> & { changes: string }>()
  ).results.map((r) => ({ action: r.action, changes: JSON.parse(r.changes) as Record<string, unknown> }));
const codeOf = async (res: Response) => (await problemOf(res)).code;

describe("defer_grace", () => {
  it("keeps the old key fully valid, with no grace end, however long the grace it asked for", async () => {
    const old = await mintKey();
    const { status, body } = await rotate(old.id, { defer_grace: true, grace_period_hours: 1 });
    expect(status).toBe(201);
    expect(body.previous).toEqual({ id: old.id, grace_until: null });
    testClock.advance(48 * HOUR_MS);
    expect((await through(old.apiKey)).status).toBe(200);
    expect((await through(body.api_key)).status).toBe(200);
    expect(await getKey(old.id)).toMatchObject({ status: "active", grace_until: null, rotated_to: body.key.id });
  });

  it("start-grace starts the grace asked at rotation from now: the old key then stops at its end", async () => {
    const old = await mintKey();
    const { body } = await rotate(old.id, { defer_grace: true, grace_period_hours: 2 });
    testClock.advance(5 * HOUR_MS);
    const startedAt = testClock.now();
    const res = await startGrace(old.id);
    expect(res.status).toBe(200);
    const view = (await res.json()) as KeyView;
    expect(Date.parse(String(view.grace_until))).toBe(startedAt + 2 * HOUR_MS);
    expect((await through(old.apiKey)).status).toBe(200);
    testClock.advanceTo(startedAt + 2 * HOUR_MS);
    expect(await codeOf(await through(old.apiKey))).toBe("key_expired");
    expect((await through(body.api_key)).status).toBe(200);
  });

  it("start-grace with hours overrides the rotation's, and 0 stops the old key at once", async () => {
    const old = await mintKey();
    await rotate(old.id, { defer_grace: true, grace_period_hours: 48 });
    expect((await through(old.apiKey)).status).toBe(200); // its object and caches hold it live
    const res = await startGrace(old.id, { grace_period_hours: 0 });
    expect(res.status).toBe(200);
    expect(await codeOf(await through(old.apiKey))).toBe("key_expired");
  });

  it("start-grace is idempotent: a retry answers the same grace end and writes no second audit row", async () => {
    const old = await mintKey();
    await rotate(old.id, { defer_grace: true, grace_period_hours: 3 });
    const first = (await (await startGrace(old.id)).json()) as KeyView;
    testClock.advance(HOUR_MS);
    const retry = await startGrace(old.id, { grace_period_hours: 10 });
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as KeyView).grace_until).toBe(first.grace_until);
    const starts = (await auditOf(old.id)).filter((r) => r.action === "start_grace");
    expect(starts).toHaveLength(1);
    expect(starts[0]!.changes).toMatchObject({ grace_until: first.grace_until });
  });

  it("start-grace never extends the old key past its own expiry", async () => {
    const old = await mintKey({ expires_in_days: 1 });
    await rotate(old.id, { defer_grace: true, grace_period_hours: 720 });
    const view = (await (await startGrace(old.id)).json()) as KeyView;
    expect(view.grace_until).toBe(old.key.expires_at);
  });

  it("the old key waiting for its grace does not count toward max_active_keys beside its successor", async () => {
    const owner = `steps-${crypto.randomUUID()}`;
    const created = await admin("/consumers", { json: { id: owner, key_policy: { max_active_keys: 2 } } });
    expect(created.status).toBe(201);
    const old = await mintKey({ owner_id: owner });
    expect((await rotate(old.id, { defer_grace: true })).status).toBe(201);
    expect((await admin("/keys", { json: { owner_id: owner } })).status).toBe(201);
    expect(await codeOf(await admin("/keys", { json: { owner_id: owner } }))).toBe("key_policy_violation");
  });
});

describe("start-grace refusals", () => {
  it("is 409 for a key never rotated, rotated without defer_grace, or whose successor is revoked", async () => {
    const never = await mintKey();
    const immediate = await mintKey();
    await rotate(immediate.id, {});
    const orphaned = await mintKey();
    const { body } = await rotate(orphaned.id, { defer_grace: true });
    await revoke(body.key.id);
    for (const key of [never, immediate, orphaned]) {
      const before = await getKey(key.id);
      expect(await codeOf(await startGrace(key.id))).toBe("key_state_conflict");
      expect(await getKey(key.id)).toEqual(before);
    }
  });

  it("is 404 for no such key and 400 for bad hours, changing nothing", async () => {
    expect(await codeOf(await startGrace("key_AAAAAAAAAAAAAAAAAAAAAA"))).toBe("key_not_found");
    const old = await mintKey();
    await rotate(old.id, { defer_grace: true });
    expect((await startGrace(old.id, { grace_period_hours: 721 })).status).toBe(400);
    expect((await startGrace(old.id, { hours: 1 })).status).toBe(400);
    expect((await getKey(old.id)).grace_until).toBeNull();
  });

  itRefusesWrongCredentials(async () => {
    const old = await mintKey();
    await rotate(old.id, { defer_grace: true });
    return { method: "POST", path: `/keys/${old.id}/start-grace` };
  });
});

describe("a revoked successor of a deferred rotation", () => {
  it("leaves the old key current and fully valid, and it may be rotated again", async () => {
    const old = await mintKey();
    const first = await rotate(old.id, { defer_grace: true, rotation_token: "t-1" });
    await revoke(first.body.key.id, "store write failed");
    testClock.advance(100 * HOUR_MS);
    expect((await through(old.apiKey)).status).toBe(200);
    const again = await rotate(old.id, { defer_grace: true });
    expect(again.status).toBe(201);
    expect((await through(again.body.api_key)).status).toBe(200);
    expect(await getKey(old.id)).toMatchObject({ status: "active", rotated_to: again.body.key.id, grace_until: null });
    const last = (await auditOf(old.id)).at(-1)!;
    expect(last.changes).toMatchObject({ previous_successor_revoked: first.body.key.id });
  });

  it("an immediate rotation's old key stays rotated when its successor is revoked (it is in its grace)", async () => {
    const old = await mintKey();
    const { body } = await rotate(old.id, {});
    await revoke(body.key.id);
    expect(await codeOf(await admin(`/keys/${old.id}/rotate`))).toBe("key_state_conflict");
  });
});

describe("rotation_token", () => {
  it("a retry with the same token revokes the successor it minted, at once, and mints a new one", async () => {
    const old = await mintKey();
    const first = await rotate(old.id, { defer_grace: true, rotation_token: "version-1" });
    expect((await through(first.body.api_key)).status).toBe(200); // its object and caches hold it live
    const retry = await rotate(old.id, { defer_grace: true, rotation_token: "version-1" });
    expect(retry.status).toBe(201);
    expect(retry.body.api_key).not.toBe(first.body.api_key);
    expect(retry.body.previous).toEqual({ id: old.id, grace_until: null });
    expect(await codeOf(await through(first.body.api_key))).toBe("key_revoked");
    expect((await through(retry.body.api_key)).status).toBe(200);
    expect((await through(old.apiKey)).status).toBe(200);
    expect(await getKey(first.body.key.id)).toMatchObject({ status: "revoked", revoke_reason: "rotation_retried" });
    expect(await getKey(old.id)).toMatchObject({ rotated_to: retry.body.key.id, grace_until: null });
    expect((await auditOf(old.id)).at(-1)!.changes).toMatchObject({
      rotated_to: retry.body.key.id,
      rotation_token: "version-1",
      replaced_successor: first.body.key.id,
    });
    expect((await auditOf(first.body.key.id)).at(-1)).toEqual({
      action: "revoke",
      changes: { status: "revoked", revoke_reason: "rotation_retried", replaced_by: retry.body.key.id },
    });
  });

  it("a different token, no token, or a retry that changes defer_grace is 409 and changes nothing", async () => {
    const old = await mintKey();
    const { body } = await rotate(old.id, { defer_grace: true, rotation_token: "version-1" });
    const before = await countKeys();
    for (const json of [
      { defer_grace: true, rotation_token: "version-2" },
      { defer_grace: true },
      { rotation_token: "version-1" },
    ]) {
      const res = await rotate(old.id, json);
      expect([res.status, res.body.code]).toEqual([409, "key_state_conflict"]);
    }
    expect(await countKeys()).toBe(before);
    expect((await through(body.api_key)).status).toBe(200);
  });

  it("once the grace started, a retry is 409: the successor is the one applications now read", async () => {
    const old = await mintKey();
    const { body } = await rotate(old.id, { defer_grace: true, rotation_token: "version-1" });
    expect((await startGrace(old.id)).status).toBe(200);
    const retry = await rotate(old.id, { defer_grace: true, rotation_token: "version-1" });
    expect(retry.status).toBe(409);
    expect((await through(body.api_key)).status).toBe(200);
  });

  it("a retry of an immediate rotation keeps the old key's grace end", async () => {
    const old = await mintKey();
    const first = await rotate(old.id, { grace_period_hours: 4, rotation_token: "r" });
    testClock.advance(HOUR_MS);
    const retry = await rotate(old.id, { grace_period_hours: 4, rotation_token: "r" });
    expect(retry.status).toBe(201);
    expect(retry.body.previous.grace_until).toBe(first.body.previous.grace_until);
    expect(await codeOf(await through(first.body.api_key))).toBe("key_revoked");
  });

  it("concurrent retries with one token leave exactly one live successor", async () => {
    const old = await mintKey();
    await rotate(old.id, { defer_grace: true, rotation_token: "c" });
    const results = await Promise.all([1, 2, 3].map(() => rotate(old.id, { defer_grace: true, rotation_token: "c" })));
    expect(results.filter((r) => r.status === 201).length).toBeGreaterThanOrEqual(1);
    for (const r of results) expect([201, 409]).toContain(r.status);
    const live = await env.DB.prepare("SELECT id FROM api_keys WHERE rotated_from = ? AND status = 'active'")
      .bind(old.id)
      .all<{ id: string }>();
    expect(live.results.map((r) => r.id)).toEqual([(await getKey(old.id)).rotated_to]);
  });

  it("is 1–128 visible ASCII characters", async () => {
    const old = await mintKey();
    for (const rotation_token of ["", "a b", "x".repeat(129), "é"]) {
      expect((await admin(`/keys/${old.id}/rotate`, { json: { rotation_token } })).status).toBe(400);
    }
    expect((await getKey(old.id)).rotated_to).toBeNull();
  });
});

describe("the key's object failing", () => {
  /** A POST through the Worker with the key objects replaced. */
  async function postWith(keyObjects: Cloudflare.Env["KEY_OBJECT"], path: string, json: unknown) {
    const ctx = createExecutionContext();
    const request = new Request(`${BASE}/admin/v1${path}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify(json),
    });
    const response = await worker.fetch(request, { ...env, KEY_OBJECT: keyObjects } as Cloudflare.Env, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  }
  /** Uses the key once (its record in KV and its object), and answers a way to put that copy back in KV. */
  async function staleCopyOf(apiKey: string, id: string) {
    expect((await through(apiKey)).status).toBe(200);
    const kvKey = kvKeyFor(await sha256Hex(apiKey));
    const entry = (await env.KEY_CACHE.get(kvKey))!;
    return async () => {
      await env.KEY_CACHE.put(kvKey, entry);
      clearIsolateCaches();
      forgetLeases(id);
    };
  }

  it("a start-grace whose push fails is 503 with the grace in force; its retry answers the same end", async () => {
    const old = await mintKey();
    await rotate(old.id, { defer_grace: true, grace_period_hours: 0 });
    const restore = await staleCopyOf(old.apiKey, old.id);
    const { ns } = breakingKeyObjects({ applyChange: "throw" });
    const failed = await postWith(ns, `/keys/${old.id}/start-grace`, {});
    expect([failed.status, (await problemOf(failed)).code]).toEqual([503, "authorizer_unavailable"]);
    await restore();
    expect(await codeOf(await through(old.apiKey))).toBe("key_expired");
    const graceUntil = (await getKey(old.id)).grace_until;
    const retry = await startGrace(old.id);
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as KeyView).grace_until).toBe(graceUntil);
    expect((await auditOf(old.id)).filter((r) => r.action === "start_grace")).toHaveLength(1);
  });

  it("a retry by rotation_token whose pushes fail still answers the new secret, and the replaced key is refused", async () => {
    const old = await mintKey();
    const first = await rotate(old.id, { defer_grace: true, rotation_token: "v1" });
    const restore = await staleCopyOf(first.body.api_key, first.body.key.id);
    const { ns } = breakingKeyObjects({ applyChange: "throw" });
    const retry = await postWith(ns, `/keys/${old.id}/rotate`, { defer_grace: true, rotation_token: "v1" });
    expect(retry.status).toBe(201);
    const { api_key } = (await retry.json()) as RotateKeyResult;
    await restore();
    expect(await codeOf(await through(first.body.api_key))).toBe("key_revoked");
    expect((await through(api_key)).status).toBe(200);
  });

  it("a retry by rotation_token whose announcement fails is 503 and writes nothing", async () => {
    const old = await mintKey();
    const first = await rotate(old.id, { defer_grace: true, rotation_token: "v1" });
    const before = await d1Snapshot();
    const { ns } = breakingKeyObjects({ prepareChange: "throw" });
    const res = await postWith(ns, `/keys/${old.id}/rotate`, { defer_grace: true, rotation_token: "v1" });
    expect(res.status).toBe(503);
    expect(await d1Snapshot()).toBe(before);
    expect((await through(first.body.api_key)).status).toBe(200);
  });
});
