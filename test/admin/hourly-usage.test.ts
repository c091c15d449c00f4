/**
 * granularity=hour on GET /admin/v1/usage, /keys/{id}/usage and /consumers/{id}/usage (src/operations/usage.ts):
 * decisions per UTC hour from the hourly rollups, for the last `hours` hours. One day's traffic, driven on the
 * fake clock across midnight, is read back per hour and checked against the daily rollups.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { type HourlyUsageReport, MAX_USAGE_HOURS, type UsageReport } from "../../src/monitoring/usage-store";
import type { ConsumerUsageResult, KeyUsageResult } from "../../src/operations/usage";
import { DAY_MS, HOUR_MS, isoTime, MINUTE_MS, utcDay, utcDayStart } from "../../src/util/time";
import { testClock } from "../clock";
import { admin, type MintedKey, mintKey, problemOf } from "../helpers";
import { flush, getJson, request } from "../monitoring/helpers";
import { itRefusesWrongCredentials } from "./helpers";

type Hourly<T> = Extract<T, { granularity: "hour" }>;
type Daily<T> = Extract<T, { granularity: "day" }>;

/** Midnight (UTC) of the scenario's second day: the traffic runs from 22:40 the day before to 00:10. */
let midnight = 0;
let a: MintedKey;
let b: MintedKey;
let c: MintedKey;

/**
 * Moves the clock to `at` and flushes what was counted before it. The flush also restarts this isolate's
 * flush interval, so no request made at `at` starts a flush of its own in the background.
 */
async function at(time: number): Promise<void> {
  await flush();
  testClock.advanceTo(time);
  await flush();
}

beforeAll(async () => {
  midnight = utcDayStart(utcDay(testClock.now())) + 2 * DAY_MS;
  // Keys a and b belong to team-hourly, c to team-other; all hold the read scope only (a POST is refused).
  [a, b, c] = [
    await mintKey({ owner_id: "team-hourly" }),
    await mintKey({ owner_id: "team-hourly" }),
    await mintKey({ owner_id: "team-other" }),
  ];
  await at(midnight - 80 * MINUTE_MS); // 22:40
  for (let i = 0; i < 2; i++) expect(await request(a.apiKey)).toBe(200);
  await at(midnight - 30 * MINUTE_MS); // 23:30
  expect(await request(a.apiKey)).toBe(200);
  expect(await request(a.apiKey, { method: "POST" })).toBe(403);
  expect(await request(b.apiKey)).toBe(200);
  expect(await request(c.apiKey)).toBe(200);
  expect(await request(`sk_live_${"A".repeat(49)}`)).toBe(401); // no known key: invalid_key, counted under ''
  await at(midnight + 10 * MINUTE_MS); // 00:10, the next day
  for (let i = 0; i < 3; i++) expect(await request(a.apiKey)).toBe(200);
  expect(await request(c.apiKey, { method: "POST" })).toBe(403);
  await at(midnight + 65 * MINUTE_MS); // 01:05: the current hour is 01:00
});

/** The hour starting `offset` hours after the scenario's midnight, as the answer names it. */
const hour = (offset: number) => isoTime(midnight + offset * HOUR_MS);

describe("happy path", () => {
  it("buckets every decision in its UTC hour, on either side of midnight, the current hour last", async () => {
    const { status, body } = await getJson<HourlyUsageReport>("/usage?granularity=hour&hours=4");
    expect(status).toBe(200);
    expect(body).toEqual({
      from: hour(-2),
      to: hour(1),
      granularity: "hour",
      total: 11,
      outcomes: { valid: 8, insufficient_scope: 2, invalid_key: 1 },
      hours: [
        { hour: hour(-2), total: 2, outcomes: { valid: 2 } },
        { hour: hour(-1), total: 5, outcomes: { insufficient_scope: 1, invalid_key: 1, valid: 3 } },
        { hour: hour(0), total: 4, outcomes: { insufficient_scope: 1, valid: 3 } },
        { hour: hour(1), total: 0, outcomes: {} },
      ],
    });
  });

  it("answers one key's hours, and one consumer's (all its keys', no other's), shaped alike", async () => {
    const key = await getJson<Hourly<KeyUsageResult>>(`/keys/${a.id}/usage?granularity=hour&hours=4`);
    expect(key.status).toBe(200);
    expect(key.body).toEqual({
      key_id: a.id,
      from: hour(-2),
      to: hour(1),
      granularity: "hour",
      total: 7,
      outcomes: { valid: 6, insufficient_scope: 1 },
      hours: [
        { hour: hour(-2), total: 2, outcomes: { valid: 2 } },
        { hour: hour(-1), total: 2, outcomes: { insufficient_scope: 1, valid: 1 } },
        { hour: hour(0), total: 3, outcomes: { valid: 3 } },
        { hour: hour(1), total: 0, outcomes: {} },
      ],
    });
    const team = await getJson<Hourly<ConsumerUsageResult>>("/consumers/team-hourly/usage?granularity=hour&hours=4");
    expect(team.status).toBe(200);
    expect(team.body.hours.map((h) => [h.hour, h.outcomes])).toEqual([
      [hour(-2), { valid: 2 }],
      [hour(-1), { insufficient_scope: 1, valid: 2 }],
      [hour(0), { valid: 3 }],
      [hour(1), {}],
    ]);
    const { key_id: _, ...keyShape } = key.body;
    const { consumer_id: __, ...consumerShape } = team.body;
    expect(Object.keys(consumerShape)).toEqual(Object.keys(keyShape));
    // GET /usage?consumer_id= answers the same figures without the id.
    const other = await getJson<Hourly<ConsumerUsageResult>>("/consumers/team-other/usage?granularity=hour&hours=4");
    const viaAll = await getJson<HourlyUsageReport>("/usage?granularity=hour&hours=4&consumer_id=team-other");
    const { consumer_id: ___, ...otherFigures } = other.body;
    expect(viaAll.body).toEqual(otherFigures);
    expect(otherFigures.outcomes).toEqual({ valid: 1, insufficient_scope: 1 });
  });

  it.each([
    ["every decision", "/usage"],
    ["a key's", () => `/keys/${a.id}/usage`],
    ["a consumer's", "/consumers/team-hourly/usage"],
    ["another consumer's", "/consumers/team-other/usage"],
  ])("%s hours add up to the daily rollups, day by day and outcome by outcome", async (_label, path) => {
    const route = typeof path === "string" ? path : path();
    // 26 hours from 01:00: every hour of both days of the scenario.
    const hourly = await getJson<HourlyUsageReport>(`${route}?granularity=hour&hours=26`);
    expect(hourly.body.from).toBe(isoTime(midnight - DAY_MS));
    const daily = await getJson<UsageReport>(`${route}?from=${utcDay(midnight - DAY_MS)}&to=${utcDay(midnight)}`);
    expect(daily.body.granularity).toBe("day");
    const summed = new Map<string, Record<string, number>>();
    for (const h of hourly.body.hours) {
      const day = summed.get(h.hour.slice(0, 10)) ?? {};
      for (const [outcome, n] of Object.entries(h.outcomes)) day[outcome] = (day[outcome] ?? 0) + n;
      summed.set(h.hour.slice(0, 10), day);
    }
    expect(Object.fromEntries(summed)).toEqual(Object.fromEntries(daily.body.days.map((d) => [d.day, d.outcomes])));
    expect(hourly.body.total).toBe(daily.body.total);
    expect(hourly.body.outcomes).toEqual(daily.body.outcomes);
    expect(hourly.body.total).toBeGreaterThan(0);
  });

  it("defaults to the last 24 hours; daily answers say granularity day", async () => {
    const { body } = await getJson<HourlyUsageReport>("/usage?granularity=hour");
    expect(body.hours).toHaveLength(24);
    expect(body.hours.at(-1)!.hour).toBe(hour(1));
    expect(body.hours[0]!.hour).toBe(hour(-22));
    expect(body.total).toBe(11);
    const key = await getJson<Daily<KeyUsageResult>>(`/keys/${b.id}/usage?granularity=day`);
    expect(key.body).toMatchObject({ granularity: "day", total: 1 });
    expect(key.body.days).toHaveLength(30);
  });
});

describe("errors", () => {
  it.each([
    ["hours", `granularity=hour&hours=${MAX_USAGE_HOURS + 1}`],
    ["hours", "granularity=hour&hours=0"],
    ["hours", "granularity=hour&hours=1.5"],
    ["hours", "granularity=hour&hours=a"],
    ["hours", "hours=24"], // only with granularity=hour
    ["from", "granularity=hour&from=2026-01-01"],
    ["to", "granularity=hour&to=2026-01-01"],
    ["granularity", "granularity=minute"],
    ["granularity", "granularity="],
  ])("refuses %s in ?%s on every usage route, 400 with the field named", async (field, query) => {
    for (const path of ["/usage", `/keys/${a.id}/usage`, "/consumers/team-hourly/usage"]) {
      const res = await admin(`${path}?${query}`, { method: "GET" });
      expect(res.status, path).toBe(400);
      const problem = (await problemOf(res)) as unknown as { code: string; errors: { path: string }[] };
      expect(problem.code, path).toBe("invalid_request");
      expect(
        problem.errors.map((e) => e.path),
        path,
      ).toContain(field);
    }
  });

  it("names the bound in the refusal; per hour is not offered grouped by consumer", async () => {
    const res = await admin(`/usage?granularity=hour&hours=${MAX_USAGE_HOURS + 1}`, { method: "GET" });
    expect(((await problemOf(res)) as unknown as { errors: { message: string }[] }).errors[0]!.message).toContain(
      String(MAX_USAGE_HOURS),
    );
    const grouped = await admin("/usage?group_by=consumer&granularity=hour", { method: "GET" });
    expect(grouped.status).toBe(400);
    expect(((await problemOf(grouped)) as unknown as { errors: { path: string }[] }).errors).toEqual([
      { path: "granularity", message: "group_by=consumer is per day only" },
    ]);
    const twice = await admin("/consumers/team-hourly/usage?granularity=hour&hours=2&hours=3", { method: "GET" });
    expect(twice.status).toBe(400);
  });
});

describe("security", () => {
  itRefusesWrongCredentials(async () => ({ method: "GET", path: "/usage?granularity=hour" }));
  itRefusesWrongCredentials(async () => ({ method: "GET", path: `/keys/${a.id}/usage?granularity=hour&hours=1` }));
});

describe("retention", () => {
  it("keeps the oldest hour the view can ask for through the hourly prune", async () => {
    const now = testClock.now();
    const oldest = now - (now % HOUR_MS) - (MAX_USAGE_HOURS - 1) * HOUR_MS;
    await env.DB.prepare("INSERT INTO usage_hourly (hour, key_id, outcome, count) VALUES (?, '', 'invalid_key', 7)")
      .bind(oldest)
      .run();
    const ctx = createExecutionContext();
    await worker.scheduled!(createScheduledController({ scheduledTime: now, cron: "0 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const { status, body } = await getJson<HourlyUsageReport>(`/usage?granularity=hour&hours=${MAX_USAGE_HOURS}`);
    expect(status).toBe(200);
    expect(body.hours).toHaveLength(MAX_USAGE_HOURS);
    expect(body.hours[0]).toEqual({ hour: isoTime(oldest), total: 7, outcomes: { invalid_key: 7 } });
  });
});
