/**
 * Consumer-wide alerts (src/monitoring/alerts.ts, anomalies.ts, flush.ts): `consumer_traffic_spike` on the
 * consumer's own baseline, alerts with no key, deduplicated and notified like the per-key ones.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { raiseAlert, type AlertView } from "../../src/monitoring/alerts";
import { evaluateConsumerRules } from "../../src/monitoring/anomalies";
import type { MonitoringConfig } from "../../src/monitoring/config";
import type { ListAlertsResult } from "../../src/operations/list-alerts";
import { HOUR_MS } from "../../src/util/time";
import { testClock } from "../clock";
import { mintKey } from "../helpers";
import { eventsAt, flush, getJson, hook, request } from "./helpers";

const SPIKE = { ALERT_TRAFFIC_MULTIPLE: "3", ALERT_TRAFFIC_MIN_REQUESTS: "10" } as Partial<Cloudflare.Env>;

async function alertsOf(consumerId: string, query = ""): Promise<AlertView[]> {
  const { status, body } = await getJson<ListAlertsResult>(`/alerts?consumer_id=${consumerId}${query}`);
  expect(status).toBe(200);
  return body.alerts;
}

/** `perHour` admissions an hour for the consumer over the 48 hours before the current one, in its own rollup. */
async function consumerHistory(consumerId: string, perHour: number): Promise<void> {
  const hour = testClock.now() - (testClock.now() % HOUR_MS);
  const rows = Array.from({ length: 48 }, (_, i) => [hour - (i + 1) * HOUR_MS, consumerId, perHour]);
  await env.DB.prepare(
    "INSERT INTO usage_consumer_hourly (hour, consumer_id, outcome, count) SELECT value ->> 0, value ->> 1, 'valid', value ->> 2 FROM json_each(?)",
  )
    .bind(JSON.stringify(rows))
    .run();
}

beforeEach(async () => {
  await flush(); // nothing counted by an earlier test is judged with this one's settings
});

describe("consumer_traffic_spike", () => {
  it("fires on traffic spread over the consumer's keys that no key's own rule sees; one alert, one webhook, no key", async () => {
    const receiver = hook();
    const settings = { ...receiver, ...SPIKE };
    await consumerHistory("team-spread", 4);
    // Three keys, each new (no baseline of its own), 5 admissions each: 15 > 3 × 4 for the consumer.
    const keys = [];
    for (let i = 0; i < 3; i++) keys.push(await mintKey({ owner_id: "team-spread" }));
    for (const key of keys) for (let i = 0; i < 5; i++) expect(await request(key.apiKey)).toBe(200);
    await flush(settings);
    const [alert, ...others] = await alertsOf("team-spread");
    expect(others).toEqual([]);
    expect(alert).toMatchObject({
      rule: "consumer_traffic_spike",
      key_id: null,
      owner_id: "team-spread",
      status: "open",
      occurrences: 1,
      details: { admissions_this_hour: 15, baseline_per_hour: 4, multiple: 3 },
    });
    for (const key of keys)
      expect((await getJson<ListAlertsResult>(`/alerts?key_id=${key.id}`)).body.alerts).toEqual([]);

    // The incident goes on over more flushes: the same alert, refreshed; still one webhook, without a key.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 3; i++) expect(await request(keys[0]!.apiKey)).toBe(200);
      await flush(settings);
    }
    const after = await alertsOf("team-spread");
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: alert!.id, occurrences: 3, details: { admissions_this_hour: 21 } });
    const events = await eventsAt(receiver.url);
    expect(events).toEqual([
      expect.objectContaining({
        type: "alert.opened",
        owner_id: "team-spread",
        data: expect.objectContaining({ alert_id: alert!.id, rule: "consumer_traffic_spike" }),
      }),
    ]);
    expect(events[0]).not.toHaveProperty("key_id");
  });

  it("stays quiet under the multiple, under the minimum, and without a day of the consumer's history", async () => {
    const receiver = hook();
    const settings = { ...receiver, ...SPIKE };
    await consumerHistory("team-steady", 10);
    const steady = await mintKey({ owner_id: "team-steady" });
    const fresh = await mintKey({ owner_id: "team-fresh" }); // no history at all
    const small = await mintKey({ owner_id: "team-small" });
    await consumerHistory("team-small", 1);
    for (let i = 0; i < 30; i++) expect(await request(steady.apiKey)).toBe(200); // 30 = 3 × 10: not over
    for (let i = 0; i < 40; i++) expect(await request(fresh.apiKey)).toBe(200);
    for (let i = 0; i < 9; i++) expect(await request(small.apiKey)).toBe(200); // 9 × baseline, under 10
    await flush(settings);
    for (const consumer of ["team-steady", "team-fresh", "team-small"]) expect(await alertsOf(consumer)).toEqual([]);
    expect(await eventsAt(receiver.url)).toEqual([]);
  });

  it("judges admissions only: refusals of the consumer's keys are the refusal rules' business", async () => {
    await consumerHistory("team-refused", 1);
    const key = await mintKey({ owner_id: "team-refused", ip_allowlist: ["10.0.0.0/8"] });
    for (let i = 0; i < 15; i++) expect(await request(key.apiKey, { ip: "203.0.113.5" })).toBe(403);
    await flush({ ...hook(), ...SPIKE, ALERT_REFUSAL_BURST: "1000" } as Partial<Cloudflare.Env>);
    expect(await alertsOf("team-refused")).toEqual([]);
  });
});

describe("alerts without a key", () => {
  const now = () => testClock.now();

  it("a consumer-wide alert and a key's alert of the same consumer and rule are two incidents; each dedupes on its own", async () => {
    const ctx = createExecutionContext();
    const raise = (keyId: string | null) =>
      raiseAlert(
        env,
        (p) => ctx.waitUntil(p),
        { keyId, ownerId: "team-two" },
        { rule: "consumer_traffic_spike", details: {} },
        now(),
        HOUR_MS,
      );
    expect((await raise(null)).opened).toBe(true);
    expect((await raise("key_twoAAAAAAAAAAAAAAAAAAA")).opened).toBe(true);
    expect((await raise(null)).opened).toBe(false);
    expect((await raise("key_twoAAAAAAAAAAAAAAAAAAA")).opened).toBe(false);
    // Another consumer's consumer-wide alert is its own.
    expect(
      (
        await raiseAlert(
          env,
          (p) => ctx.waitUntil(p),
          { keyId: null, ownerId: "team-three" },
          { rule: "consumer_traffic_spike", details: {} },
          now(),
          HOUR_MS,
        )
      ).opened,
    ).toBe(true);
    await waitOnExecutionContext(ctx);
    const rows = await env.DB.prepare(
      "SELECT key_id, owner_id, occurrences FROM alerts WHERE owner_id IN ('team-two', 'team-three') ORDER BY id",
    ).all();
    expect(rows.results).toEqual([
      { key_id: null, owner_id: "team-two", occurrences: 2 },
      { key_id: "key_twoAAAAAAAAAAAAAAAAAAA", owner_id: "team-two", occurrences: 2 },
      { key_id: null, owner_id: "team-three", occurrences: 1 },
    ]);
  });

  it("the same consumer incident reported by several isolates at once is still one alert and one webhook", async () => {
    const receiver = hook();
    const overrides = { ...env, ...receiver } as Cloudflare.Env;
    const ctx = createExecutionContext();
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        raiseAlert(
          overrides,
          (p) => ctx.waitUntil(p),
          { keyId: null, ownerId: "team-race" },
          { rule: "consumer_traffic_spike", details: {} },
          now(),
          HOUR_MS,
        ),
      ),
    );
    await waitOnExecutionContext(ctx);
    expect(results.filter((r) => r.opened)).toHaveLength(1);
    expect(await alertsOf("team-race")).toEqual([expect.objectContaining({ key_id: null, occurrences: 6 })]);
    expect(await eventsAt(receiver.url)).toHaveLength(1);
  });

  it("a closed consumer-wide alert makes room for a new one", async () => {
    const ctx = createExecutionContext();
    const raise = () =>
      raiseAlert(
        env,
        (p) => ctx.waitUntil(p),
        { keyId: null, ownerId: "team-again" },
        { rule: "consumer_traffic_spike", details: {} },
        now(),
        HOUR_MS,
      );
    expect((await raise()).opened).toBe(true);
    testClock.advance(HOUR_MS + 1);
    expect((await raise()).opened).toBe(true);
    await waitOnExecutionContext(ctx);
    expect((await alertsOf("team-again")).map((a) => a.status)).toEqual(["open", "closed"]);
  });
});

const CONFIG: MonitoringConfig = {
  platformName: "t",
  trafficMultiple: 10,
  trafficMinRequests: 100,
  refusalBurst: 20,
  revokedUse: 3,
  dedupeMs: HOUR_MS,
  usageRetentionDays: 400,
  alertRetentionDays: 180,
  expiredKeyRetentionDays: 90,
};

describe("the consumer rule (pure)", () => {
  it("is strict over the multiple, inclusive at the minimum, and needs a day of history", () => {
    const spike = (admissions: number, baseline: { admissions: number; hours: number } | null) =>
      evaluateConsumerRules({ admissions, baseline }, CONFIG).map((f) => f.rule);
    expect(spike(1000, { admissions: 2400, hours: 24 })).toEqual([]); // exactly 10 × 100
    expect(spike(1001, { admissions: 2400, hours: 24 })).toEqual(["consumer_traffic_spike"]);
    expect(spike(1001, { admissions: 230, hours: 23 })).toEqual([]);
    expect(spike(100, { admissions: 24, hours: 24 })).toEqual(["consumer_traffic_spike"]); // the minimum itself
    expect(spike(99, { admissions: 24, hours: 24 })).toEqual([]);
    expect(spike(5000, null)).toEqual([]);
    expect(evaluateConsumerRules({ admissions: 1001, baseline: { admissions: 2400, hours: 24 } }, CONFIG)).toEqual([
      { rule: "consumer_traffic_spike", details: { admissions_this_hour: 1001, baseline_per_hour: 100, multiple: 10 } },
    ]);
  });
});
