/**
 * The security report's consumer figures (src/monitoring/report-consumers.ts): consumers, live keys per
 * consumer, shared limits, keys due for rotation, the busiest consumers; in JSON and in Markdown.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { histogramMedian } from "../../src/monitoring/report-consumers";
import type { SecurityReport } from "../../src/monitoring/report-schema";
import { DAY_MS, HOUR_MS } from "../../src/util/time";
import { testClock } from "../clock";
import { admin, mintKey } from "../helpers";
import { putConsumer } from "./helpers";

const LIMITS = [{ name: "day", limit: 10_000, window_seconds: 86_400 }];

async function report<T>(format: "json" | "markdown"): Promise<T> {
  const res = await admin(`/report?format=${format}`, { method: "GET" });
  expect(res.status).toBe(200);
  return (format === "json" ? res.json() : res.text()) as Promise<T>;
}

const now = testClock.now();
const ids: Record<string, string> = {};

describe("the report's consumers", () => {
  beforeAll(async () => {
    // Consumers: big (4 keys, then 5 live with a rotation's successor; shared limits), mid (2 live, 1
    // revoked), one (1 live, shared limits), none (no key), gone (deleted: its only key revoked), and
    // ops:dev@example.com (disabled, 1 live key: disabling a consumer does not change its keys' rows).
    for (const name of ["big-1", "big-2", "big-3", "big-4"]) ids[name] = (await mintKey({ owner_id: "big" })).id;
    for (const name of ["mid-1", "mid-2", "mid-3"]) ids[name] = (await mintKey({ owner_id: "mid" })).id;
    expect((await admin(`/keys/${ids["mid-3"]}/revoke`)).status).toBe(200);
    ids.one = (await mintKey({ owner_id: "one" })).id;
    ids.gone = (await mintKey({ owner_id: "gone" })).id;
    expect((await admin(`/keys/${ids.gone}/revoke`)).status).toBe(200);
    ids.odd = (await mintKey({ owner_id: "ops:dev@example.com" })).id;
    await putConsumer("big", { rate_limits: LIMITS });
    await putConsumer("mid");
    await putConsumer("one", { rate_limits: LIMITS });
    await putConsumer("none");
    await putConsumer("gone", { status: "deleted" });
    await putConsumer("ops:dev@example.com", { status: "disabled" });

    // Keys due for rotation: two of big's and mid's first made 100 and 120 days ago; one of big's rotated
    // (its successor is new, and it is in its grace period); one made exactly 90 days ago counts too.
    const ago = (days: number) => now - days * DAY_MS;
    await env.DB.batch([
      env.DB.prepare("UPDATE api_keys SET created_at = ? WHERE id IN (?, ?)").bind(
        ago(100),
        ids["big-1"],
        ids["big-2"],
      ),
      env.DB.prepare("UPDATE api_keys SET created_at = ? WHERE id = ?").bind(ago(120), ids["mid-1"]),
      env.DB.prepare("UPDATE api_keys SET created_at = ? WHERE id = ?").bind(ago(90), ids.one),
      env.DB.prepare("UPDATE api_keys SET created_at = ? WHERE id IN (?, ?)").bind(ago(95), ids["big-3"], ids.gone),
    ]);
    expect((await admin(`/keys/${ids["big-3"]}/rotate`, { json: { grace_period_hours: 24 } })).status).toBe(201);

    // Traffic in the consumer rollups: the last 24 clock hours count, the 25th does not.
    const hour = now - (now % HOUR_MS);
    await env.DB.prepare(
      `INSERT INTO usage_consumer_hourly (hour, consumer_id, outcome, count) VALUES
         (?1, 'mid', 'valid', 300), (?1, 'mid', 'rate_limited', 50), (?2, 'big', 'valid', 200),
         (?2, 'ops:dev@example.com', 'valid', 10), (?3, 'one', 'valid', 9000)`,
    )
      .bind(hour, hour - 23 * HOUR_MS, hour - 24 * HOUR_MS)
      .run();
    await env.DB.prepare(
      "INSERT INTO alerts (rule, key_id, owner_id, opened_at, last_seen_at, details) VALUES ('consumer_traffic_spike', NULL, 'mid', ?1, ?1, '{}')",
    )
      .bind(now - 60_000)
      .run();
  });

  it("counts consumers and their live keys, shared limits, keys due for rotation and the busiest, as JSON", async () => {
    const r = await report<SecurityReport>("json");
    // Live keys: big 5 (big-3 in its grace period, and its successor), mid 2, one 1, none 0, ops 1; gone is
    // deleted. 0 1 1 2 5: median 1.
    expect(r.consumers).toEqual({
      count: 5,
      live_keys_per_consumer: { median: 1, max: 5, without_live_keys: 1 },
      without_shared_limits: 3, // mid, none, ops (gone is deleted)
      keys_due_rotation: {
        older_than_days: 90,
        count: 3,
        consumers: [
          { consumer_id: "mid", keys: 1, oldest_created_at: new Date(now - 120 * DAY_MS).toISOString() },
          { consumer_id: "big", keys: 2, oldest_created_at: new Date(now - 100 * DAY_MS).toISOString() },
          { consumer_id: "one", keys: 1, oldest_created_at: new Date(now - 90 * DAY_MS).toISOString() },
        ],
      },
      top_by_traffic_24h: [
        { consumer_id: "mid", total: 350, valid: 300 },
        { consumer_id: "big", total: 200, valid: 200 },
        { consumer_id: "ops:dev@example.com", total: 10, valid: 10 },
      ],
    });
  });

  it("renders the same figures as Markdown", async () => {
    const md = await report<string>("markdown");
    expect(md).toContain("## Consumers");
    expect(md).toContain("- Consumers: **5** (1 without a live key)");
    expect(md).toContain("- Live keys per consumer: median 1, max 5");
    expect(md).toContain("- Consumers without shared limits: **3**");
    expect(md).toContain("- Consumers with live keys older than 90 days and not rotated: **3**");
    expect(md).toContain("| mid | 350 | 300 |\n| big | 200 | 200 |\n| ops:dev@example.com | 10 | 10 |");
    expect(md).toContain(`| mid | 1 | ${new Date(now - 120 * DAY_MS).toISOString()} |`);
    expect(md.indexOf("## Consumers")).toBeLessThan(md.indexOf("## Controls"));
    expect(md).toMatch(/\| consumer_traffic_spike \| \(consumer-wide\) \| mid \| /); // an open alert with no key
  });
});

describe("histogram median", () => {
  it("is the middle value, or the mean of the middle two, of the counted values", () => {
    expect(histogramMedian([])).toBeNull();
    expect(histogramMedian([[3, 0]])).toBeNull();
    expect(histogramMedian([[7, 1]])).toBe(7);
    expect(
      histogramMedian([
        [0, 1],
        [1, 2],
        [5, 1],
      ]),
    ).toBe(1); // 0 1 1 5
    expect(
      histogramMedian([
        [0, 2],
        [4, 2],
      ]),
    ).toBe(2); // 0 0 4 4
    expect(
      histogramMedian([
        [1, 1],
        [2, 1],
        [9, 1],
      ]),
    ).toBe(2);
  });
});
