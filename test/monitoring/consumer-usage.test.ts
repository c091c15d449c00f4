/**
 * Usage per consumer (src/monitoring/usage.ts, flush.ts): the one aggregator's counts, rolled up by each key's
 * owner when a batch is written, in the same D1 transaction as the per-key rollups.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { flushNow } from "../../src/monitoring/flush";
import { consumerRows } from "../../src/monitoring/usage";
import type { UsageReport } from "../../src/monitoring/usage-store";
import type { KeyUsageResult } from "../../src/operations/usage";
import { HOUR_MS, utcDay } from "../../src/util/time";
import { testClock } from "../clock";
import { countingD1, mintKey, revoke } from "../helpers";
import { capturingLogs } from "../logs";
import { flush, getJson, request } from "./helpers";

const consumerTotals = async (consumerId: string) =>
  (await getJson<UsageReport>(`/usage?consumer_id=${encodeURIComponent(consumerId)}`)).body;

/** The consumer's hourly rollup rows, by outcome, for the current hour. */
async function thisHour(consumerId: string): Promise<Record<string, number>> {
  const hour = testClock.now() - (testClock.now() % HOUR_MS);
  const { results } = await env.DB.prepare(
    "SELECT outcome, count FROM usage_consumer_hourly WHERE consumer_id = ? AND hour = ?",
  )
    .bind(consumerId, hour)
    .all<{ outcome: string; count: number }>();
  return Object.fromEntries(results.map((r) => [r.outcome, r.count]));
}

/** Flushes through a D1 wrapper, answering the SQL of every statement prepared during the flush. */
async function flushCounting(db: D1Database = env.DB): Promise<string[]> {
  const counting = countingD1(db);
  const ctx = createExecutionContext();
  await flushNow({ ...env, DB: counting.db } as Cloudflare.Env, (p) => ctx.waitUntil(p), testClock.now());
  await waitOnExecutionContext(ctx);
  return counting.sql;
}

beforeEach(async () => {
  await flush(); // counts left by earlier tests land before this test's figures are read
});

describe("usage per consumer", () => {
  it("adds up each consumer's keys per day, hour and outcome; refusals with no known key belong to none", async () => {
    const a1 = await mintKey({ owner_id: "team-a", scopes: ["read"] });
    const a2 = await mintKey({ owner_id: "team-a", scopes: ["read"] });
    const b = await mintKey({ owner_id: "team-b" });
    const gone = await mintKey({ owner_id: "team-a" });
    expect((await revoke(gone.id)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect(await request(a1.apiKey)).toBe(200);
    expect(await request(a2.apiKey)).toBe(200);
    expect(await request(a2.apiKey, { method: "POST" })).toBe(403);
    expect(await request(gone.apiKey)).toBe(401);
    expect(await request(b.apiKey)).toBe(200);
    expect(await request(null)).toBe(401);
    expect(await request("sk_live_not-a-key")).toBe(401);
    await flush();

    const today = utcDay(testClock.now());
    const teamA = await consumerTotals("team-a");
    expect(teamA).toMatchObject({ total: 6, outcomes: { valid: 4, insufficient_scope: 1, key_revoked: 1 } });
    expect(teamA.days.at(-1)).toEqual({
      day: today,
      total: 6,
      outcomes: { insufficient_scope: 1, key_revoked: 1, valid: 4 },
    });
    expect((await consumerTotals("team-b")).outcomes).toEqual({ valid: 1 });
    expect(await thisHour("team-a")).toEqual({ valid: 4, insufficient_scope: 1, key_revoked: 1 });
    // The consumer's figures are its keys' figures, added.
    const perKey = await Promise.all(
      [a1, a2, gone].map(async (k) => (await getJson<KeyUsageResult>(`/keys/${k.id}/usage`)).body.total),
    );
    expect(perKey.reduce((x, y) => x + y, 0)).toBe(teamA.total);
    const unattributed = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM usage_consumer_daily WHERE consumer_id = '' OR consumer_id IS NULL",
    ).first<{ n: number }>();
    expect(unattributed!.n).toBe(0);
  });

  it("counts decisions made over RPC the same way", async () => {
    const key = await mintKey({ owner_id: "team-rpc", scopes: ["read"] });
    const verify = async (params: Record<string, unknown>) => {
      const response = await env.CALLER.fetch("https://caller.test/", { method: "POST", body: JSON.stringify(params) });
      return ((await response.json()) as { code: string }).code;
    };
    expect(await verify({ key: key.apiKey, method: "GET", path: "/api/v1/x" })).toBe("valid");
    expect(await verify({ key: key.apiKey, method: "DELETE", path: "/api/v1/x" })).toBe("insufficient_scope");
    await flush();
    expect((await consumerTotals("team-rpc")).outcomes).toEqual({ valid: 1, insufficient_scope: 1 });
  });

  it("adds across flushes and isolates' batches: an upsert adds, never replaces", async () => {
    const key = await mintKey({ owner_id: "team-adds" });
    for (let round = 1; round <= 3; round++) {
      for (let i = 0; i < round; i++) expect(await request(key.apiKey)).toBe(200);
      await flush();
    }
    expect((await consumerTotals("team-adds")).outcomes).toEqual({ valid: 6 });
    expect(await thisHour("team-adds")).toEqual({ valid: 6 });
  });

  it("costs the flush two statements in its one batch, and none for a batch with no known key", async () => {
    const key = await mintKey({ owner_id: "team-cost" });
    for (let i = 0; i < 5; i++) expect(await request(key.apiKey)).toBe(200);
    const sql = await flushCounting();
    expect(sql.filter((s) => /INSERT INTO usage_consumer_(hourly|daily)/.test(s))).toHaveLength(2);
    expect(sql.filter((s) => /api_keys/.test(s) && /owner_id/.test(s))).toHaveLength(1); // the owners, read once

    expect(await request(null)).toBe(401);
    const unkeyed = await flushCounting();
    expect(unkeyed.filter((s) => /usage_consumer_/.test(s))).toEqual([]);
    expect(unkeyed.filter((s) => /owner_id/.test(s))).toEqual([]);
  });

  it("shares the per-key rollups' transaction: when the consumer rollup cannot be written, neither is", async () => {
    const key = await mintKey({ owner_id: "team-atomic" });
    const before = (await getJson<KeyUsageResult>(`/keys/${key.id}/usage`)).body.total;
    for (let i = 0; i < 4; i++) expect(await request(key.apiKey)).toBe(200);
    // A real failure inside D1's transaction: the consumer daily rollup is missing for this flush.
    await env.DB.prepare("ALTER TABLE usage_consumer_daily RENAME TO usage_consumer_daily_away").run();
    const { logs } = await capturingLogs(() => flushCounting());
    await env.DB.prepare("ALTER TABLE usage_consumer_daily_away RENAME TO usage_consumer_daily").run();
    expect(logs.filter((l) => l.msg === "monitoring.flush_failed")).toEqual([
      expect.objectContaining({ level: "error", degraded: "usage_lost" }),
    ]);
    expect((await getJson<KeyUsageResult>(`/keys/${key.id}/usage`)).body.total).toBe(before);
    expect(await thisHour("team-atomic")).toEqual({});
    const row = await env.DB.prepare("SELECT usage_count FROM api_keys WHERE id = ?")
      .bind(key.id)
      .first<{ usage_count: number }>();
    expect(row!.usage_count).toBe(0);
  });
});

describe("consumer rows (pure)", () => {
  it("rolls rows up by owner and leaves out rows of no known key", () => {
    const owners = new Map([
      ["key_a", "team-x"],
      ["key_b", "team-x"],
      ["key_c", "team-y"],
    ]);
    const rows = [
      { hour: 0, keyId: "key_a", outcome: "valid", count: 2 },
      { hour: 0, keyId: "key_b", outcome: "valid", count: 3 },
      { hour: 0, keyId: "key_b", outcome: "rate_limited", count: 1 },
      { hour: HOUR_MS, keyId: "key_a", outcome: "valid", count: 1 },
      { hour: 0, keyId: "key_c", outcome: "valid", count: 7 },
      { hour: 0, keyId: "", outcome: "invalid_key", count: 9 },
      { hour: 0, keyId: "key_gone", outcome: "valid", count: 4 },
    ];
    expect(consumerRows(rows, owners)).toEqual([
      { hour: 0, consumerId: "team-x", outcome: "valid", count: 5 },
      { hour: 0, consumerId: "team-x", outcome: "rate_limited", count: 1 },
      { hour: HOUR_MS, consumerId: "team-x", outcome: "valid", count: 1 },
      { hour: 0, consumerId: "team-y", outcome: "valid", count: 7 },
    ]);
  });
});
