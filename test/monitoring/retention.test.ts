/**
 * Retention of keys that can no longer work (src/monitoring/retention.ts), from the scheduled job, on the
 * fake clock: a lineage's object is cleared once none of its keys can work, its rows pruned after
 * EXPIRED_KEY_RETENTION_DAYS; and short-lived keys get no expiring-soon notice.
 */
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runScheduled, type ScheduledSummary } from "../../src/monitoring/scheduled";
import type { RotateKeyResult } from "../../src/operations/rotate-key";
import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS } from "../../src/util/time";
import { testClock } from "../clock";
import { admin, mintKey, revoke } from "../helpers";
import { through } from "../admin/helpers";
import { eventsAt, hook } from "./helpers";

/** One run of the scheduled job, as the Cron Trigger would start it, its background work awaited. */
async function runCron(overrides: Partial<Cloudflare.Env> = {}): Promise<ScheduledSummary> {
  const ctx = createExecutionContext();
  const summary = await runScheduled(
    { ...env, ...overrides } as Cloudflare.Env,
    (p) => ctx.waitUntil(p),
    testClock.now(),
  );
  await waitOnExecutionContext(ctx);
  return summary;
}

const lineageStub = (lineage: string) => env.KEY_OBJECT.get(env.KEY_OBJECT.idFromName(lineage));
/** What the lineage's object keeps in storage (empty: a fresh object). */
const storedNames = (lineage: string) =>
  runInDurableObject(lineageStub(lineage), async (_o, state) => [...state.storage.kv.list()].map(([name]) => name));
const isCleared = async (lineage: string) =>
  (await env.DB.prepare("SELECT 1 AS y FROM cleared_lineages WHERE lineage_id = ?").bind(lineage).first()) !== null;
const rowsOf = async (keyId: string) => {
  const count = (sql: string) =>
    env.DB.prepare(sql)
      .bind(keyId)
      .first<{ n: number }>()
      .then((r) => r!.n);
  return {
    key: await count("SELECT COUNT(*) AS n FROM api_keys WHERE id = ?"),
    usage: await count("SELECT COUNT(*) AS n FROM usage_daily WHERE key_id = ?"),
    audit: await count("SELECT COUNT(*) AS n FROM audit_log WHERE subject_type = 'key' AND subject_id = ?"),
  };
};

describe("short-lived keys and the expiry notices", () => {
  it("a 10-minute key gets no expiring-soon notice, before or after it expires; a year-long key near its end does", async () => {
    const receiver = hook();
    const short = await mintKey({ owner_id: "owner-ci", expires_in_seconds: 600 });
    const week = await mintKey({ owner_id: "owner-ci", expires_in_days: 7 });
    await runCron(receiver);
    testClock.advance(5 * MINUTE_MS);
    await runCron(receiver);
    testClock.advance(6 * MINUTE_MS);
    await runCron(receiver);
    const noticed = (await eventsAt(receiver.url)).filter((e) => e.type === "key.expiring").map((e) => e.key_id);
    expect(noticed).not.toContain(short.id);
    expect(noticed).not.toContain(week.id); // a week-long key lives less than the 30-day window

    const year = await mintKey({ owner_id: "owner-ci" });
    testClock.advance(340 * DAY_MS);
    await runCron(receiver);
    const later = (await eventsAt(receiver.url)).filter((e) => e.type === "key.expiring").map((e) => e.key_id);
    expect(later).toContain(year.id);
    expect(later).not.toContain(short.id);
  });
});

describe("a lineage's object, once none of its keys can work", () => {
  it("is kept while the key lives, cleared once it expired, and the row outlives it until the retention", async () => {
    const { apiKey, id, key } = await mintKey({
      owner_id: "owner-ci",
      expires_in_seconds: 600,
      rate_limits: [{ name: "hour", limit: 5, window_seconds: 3600 }],
    });
    expect((await through(apiKey)).status).toBe(200); // counters, and usage once flushed
    await runCron();
    expect(await storedNames(key.lineage_id)).toContain("state");
    expect(await isCleared(key.lineage_id)).toBe(false);

    testClock.advance(10 * MINUTE_MS);
    await runCron();
    expect(await storedNames(key.lineage_id)).toEqual([]);
    expect(await isCleared(key.lineage_id)).toBe(true);
    // A fresh object: it reads the key afresh from D1, and answers it expired with every token back.
    const peek = await lineageStub(key.lineage_id).peek({ keyId: id });
    expect(peek).toMatchObject({ refusal: "key_expired", limits: [{ name: "hour", remaining: 5 }] });
    expect((await admin(`/keys/${id}`, { method: "GET" })).status).toBe(200);
    const before = await rowsOf(id);
    expect(before).toMatchObject({ key: 1, usage: 1 });
    expect(before.audit).toBeGreaterThan(0);

    // Not cleared twice; not pruned before EXPIRED_KEY_RETENTION_DAYS (90) past its expiry.
    const cleared = await env.DB.prepare("SELECT cleared_at FROM cleared_lineages WHERE lineage_id = ?")
      .bind(key.lineage_id)
      .first<{ cleared_at: number }>();
    testClock.advance(90 * DAY_MS - 11 * MINUTE_MS);
    await runCron();
    expect(await rowsOf(id)).toEqual(before);
    expect(
      await env.DB.prepare("SELECT cleared_at FROM cleared_lineages WHERE lineage_id = ?")
        .bind(key.lineage_id)
        .first<{ cleared_at: number }>(),
    ).toEqual(cleared);

    testClock.advance(12 * MINUTE_MS);
    const summary = await runCron();
    expect(summary.pruned_keys).toBeGreaterThanOrEqual(1);
    expect(await rowsOf(id)).toEqual({ key: 0, usage: 0, audit: before.audit }); // the audit trail stays
    expect((await admin(`/keys/${id}`, { method: "GET" })).status).toBe(404);
    expect(await isCleared(key.lineage_id)).toBe(false); // its lineage has no row left
  });

  it("EXPIRED_KEY_RETENTION_DAYS sets the retention; a malformed one prunes no row", async () => {
    const { id } = await mintKey({ owner_id: "owner-ci", expires_in_seconds: 60 });
    testClock.advance(MINUTE_MS);
    await runCron();
    testClock.advance(10 * DAY_MS + SECOND_MS);
    await runCron({ EXPIRED_KEY_RETENTION_DAYS: "forever" } as Partial<Cloudflare.Env>);
    expect((await rowsOf(id)).key).toBe(1);
    await runCron({ EXPIRED_KEY_RETENTION_DAYS: "11" } as Partial<Cloudflare.Env>);
    expect((await rowsOf(id)).key).toBe(1);
    await runCron({ EXPIRED_KEY_RETENTION_DAYS: "10" } as Partial<Cloudflare.Env>);
    expect((await rowsOf(id)).key).toBe(0);
  });

  it("a revoked key's lineage is cleared at once, its row kept until the retention past its expiry", async () => {
    const { apiKey, id, key } = await mintKey({ owner_id: "owner-ci", expires_in_days: 1 });
    expect((await through(apiKey)).status).toBe(200);
    expect((await revoke(id)).status).toBe(200);
    await runCron();
    expect(await storedNames(key.lineage_id)).toEqual([]);
    expect((await rowsOf(id)).key).toBe(1);
  });

  it("is kept while a successor lives, or while a predecessor is in its grace, and cleared when both are done", async () => {
    const first = await mintKey({ owner_id: "owner-ci" });
    expect((await through(first.apiKey)).status).toBe(200);
    const rotate = async (id: string, json: Record<string, unknown>) => {
      const response = await admin(`/keys/${id}/rotate`, { json });
      expect(response.status).toBe(201);
      return (await response.json()) as RotateKeyResult;
    };
    // A successor in use: the predecessor's grace ending changes nothing.
    const second = await rotate(first.id, { grace_period_hours: 1 });
    testClock.advance(2 * HOUR_MS);
    await runCron();
    expect(await storedNames(first.key.lineage_id)).toContain("state");

    // A short-lived successor that expires while its predecessor is still in its grace: kept.
    const third = await rotate(second.key.id, { grace_period_hours: 1, expires_in_seconds: 600 });
    expect(third.key.lineage_id).toBe(first.key.lineage_id);
    expect((await through(third.api_key)).status).toBe(200);
    testClock.advance(11 * MINUTE_MS);
    expect((await through(second.api_key)).status).toBe(200); // in its grace
    await runCron();
    expect(await storedNames(first.key.lineage_id)).toContain("state");
    expect(await isCleared(first.key.lineage_id)).toBe(false);

    testClock.advance(HOUR_MS);
    await runCron();
    expect(await storedNames(first.key.lineage_id)).toEqual([]);
    expect(await isCleared(first.key.lineage_id)).toBe(true);
  });

  it("the object itself refuses to be cleared while it holds a key that can still work", async () => {
    const { apiKey, key } = await mintKey({ owner_id: "owner-ci" });
    expect((await through(apiKey)).status).toBe(200);
    const disabled = await mintKey({ owner_id: "owner-ci", expires_in_seconds: 600 });
    expect((await admin(`/keys/${disabled.id}/disable`)).status).toBe(200);
    expect(await lineageStub(key.lineage_id).clearLineage()).toBe(false);
    expect(await storedNames(key.lineage_id)).toContain("state");
    // A disabled key may be enabled: its lineage is not done until it expires.
    await runCron();
    expect(await isCleared(disabled.key.lineage_id)).toBe(false);
    testClock.advance(10 * MINUTE_MS + SECOND_MS);
    await runCron();
    expect(await isCleared(disabled.key.lineage_id)).toBe(true);
  });
});
