/**
 * Migrations 0004 (consumers) and 0005 (consumer rollups) on a database the schema before consumers wrote:
 * what was counted per key before the upgrade is attributed to the keys' consumers, and the flush after it
 * adds to those figures.
 */
import { applyD1Migrations, reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { UsageReport } from "../../src/monitoring/usage-store";
import { HOUR_MS, utcDay } from "../../src/util/time";
import { testClock } from "../clock";
import { flush, getJson, request } from "./helpers";
import { admin } from "../helpers";

/** The first migration the upgrade applies: the database below was written by the code before it. */
const UPGRADE = "0004_consumers.sql";

describe("upgrading to consumer rollups", () => {
  it("backfills from the per-key rollups, and the next flush adds to the backfilled figures", async () => {
    await reset();
    const before = env.TEST_MIGRATIONS.filter((m) => m.name < UPGRADE);
    expect(before.map((m) => m.name)).toContain("0003_monitoring.sql");
    await applyD1Migrations(env.DB, before);

    // Rows as the old code wrote them: two keys of one owner, one of another, and unknown-key refusals.
    const now = testClock.now();
    const hour = now - (now % HOUR_MS);
    const [today, yesterday] = [utcDay(now), utcDay(now - 24 * HOUR_MS)];
    const key = (id: string, owner: string) =>
      env.DB.prepare(
        `INSERT INTO api_keys (id, key_hash, prefix, hint, type, environment, owner_id, status, created_at, expires_at, lineage_id)
         VALUES (?1, ?2, 'sk_live_', 'abcd', 'secret', 'live', ?3, 'active', ?4, ?5, ?1)`,
      ).bind(id, id.padEnd(64, "0"), owner, now - 10 * 24 * HOUR_MS, now + 100 * 24 * HOUR_MS);
    await env.DB.batch([
      key("key_old1AAAAAAAAAAAAAAAAAA", "legacy-a"),
      key("key_old2AAAAAAAAAAAAAAAAAA", "legacy-a"),
      key("key_old3AAAAAAAAAAAAAAAAAA", "legacy-b"),
      env.DB.prepare(
        `INSERT INTO usage_daily (day, key_id, outcome, count) VALUES
           (?1, 'key_old1AAAAAAAAAAAAAAAAAA', 'valid', 10), (?1, 'key_old2AAAAAAAAAAAAAAAAAA', 'valid', 5),
           (?1, 'key_old2AAAAAAAAAAAAAAAAAA', 'rate_limited', 2), (?2, 'key_old1AAAAAAAAAAAAAAAAAA', 'valid', 7),
           (?1, 'key_old3AAAAAAAAAAAAAAAAAA', 'valid', 1), (?1, '', 'invalid_key', 50)`,
      ).bind(today, yesterday),
      env.DB.prepare(
        `INSERT INTO usage_hourly (hour, key_id, outcome, count) VALUES
           (?1, 'key_old1AAAAAAAAAAAAAAAAAA', 'valid', 4), (?1, 'key_old2AAAAAAAAAAAAAAAAAA', 'valid', 3),
           (?2, 'key_old1AAAAAAAAAAAAAAAAAA', 'valid', 6), (?1, '', 'invalid_key', 50)`,
      ).bind(hour, hour - HOUR_MS),
    ]);
    await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
    // 0004 made a consumer of every owner; 0005 attributed their keys' counts to them.
    const consumers = await env.DB.prepare("SELECT id FROM consumers ORDER BY id").all<{ id: string }>();
    expect(consumers.results.map((c) => c.id)).toEqual(["legacy-a", "legacy-b"]);
    const daily = await env.DB.prepare(
      "SELECT consumer_id, day, outcome, count FROM usage_consumer_daily ORDER BY consumer_id, day, outcome",
    ).all();
    expect(daily.results).toEqual([
      { consumer_id: "legacy-a", day: yesterday, outcome: "valid", count: 7 },
      { consumer_id: "legacy-a", day: today, outcome: "rate_limited", count: 2 },
      { consumer_id: "legacy-a", day: today, outcome: "valid", count: 15 },
      { consumer_id: "legacy-b", day: today, outcome: "valid", count: 1 },
    ]);
    const hourly = await env.DB.prepare(
      "SELECT consumer_id, hour, outcome, count FROM usage_consumer_hourly ORDER BY hour",
    ).all();
    expect(hourly.results).toEqual([
      { consumer_id: "legacy-a", hour: hour - HOUR_MS, outcome: "valid", count: 6 },
      { consumer_id: "legacy-a", hour, outcome: "valid", count: 7 },
    ]);

    // New code on top: a key minted now for the same owner adds to the backfilled day.
    const minted = await admin("/keys", { json: { owner_id: "legacy-a" } });
    expect(minted.status).toBe(201);
    const { api_key } = (await minted.json()) as { api_key: string };
    expect(await request(api_key)).toBe(200);
    await flush();
    const { body } = await getJson<UsageReport>(`/usage?consumer_id=legacy-a&from=${yesterday}&to=${today}`);
    expect(body.days).toEqual([
      { day: yesterday, total: 7, outcomes: { valid: 7 } },
      { day: today, total: 18, outcomes: { rate_limited: 2, valid: 16 } },
    ]);
  });
});
