import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { raiseAlert, type AlertView } from "../../src/monitoring/alerts";
import {
  NETWORK_HISTORY_DAYS,
  evaluateRules,
  ipNetwork,
  keyPredatesHistory,
  newNetworks,
} from "../../src/monitoring/anomalies";
import type { MonitoringConfig } from "../../src/monitoring/config";
import type { ListAlertsResult } from "../../src/operations/list-alerts";
import { BASE, mintKey, revoke } from "../helpers";
import { eventsAt, flush, getJson, hook, request } from "./helpers";
import { testClock } from "../clock";
import { DAY_MS, HOUR_MS } from "../../src/util/time";

async function alertsFor(keyId: string, query = ""): Promise<AlertView[]> {
  const { status, body } = await getJson<ListAlertsResult>(`/alerts?key_id=${keyId}${query}`);
  expect(status).toBe(200);
  return body.alerts;
}

beforeEach(async () => {
  await flush(); // nothing counted by an earlier test is attributed to this one's flush settings
});

describe("anomaly alerts", () => {
  it("refusal_burst: many refusals for the key's restrictions open one alert, notified once, however often it recurs", async () => {
    const receiver = hook();
    const settings = { ...receiver, ALERT_REFUSAL_BURST: "5" } as Partial<Cloudflare.Env>;
    const key = await mintKey({ owner_id: "owner-burst", ip_allowlist: ["10.0.0.0/8"] });
    for (let i = 0; i < 4; i++) expect(await request(key.apiKey, { ip: "203.0.113.5" })).toBe(403);
    await flush(settings);
    expect(await alertsFor(key.id)).toEqual([]); // 4 < 5

    expect(await request(key.apiKey, { ip: "203.0.113.5" })).toBe(403);
    await flush(settings);
    const [alert, ...others] = await alertsFor(key.id);
    expect(others).toEqual([]);
    expect(alert).toMatchObject({
      rule: "refusal_burst",
      owner_id: "owner-burst",
      status: "open",
      occurrences: 1,
      details: { refusals_this_hour: 5, by_code: { ip_not_allowed: 5 } },
    });

    // The incident goes on over many flushes: still one alert, one webhook.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5; i++) await request(key.apiKey, { ip: "203.0.113.5" }); // the same network: only this rule
      await flush(settings);
    }
    const after = await alertsFor(key.id);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: alert!.id, occurrences: 4, details: { refusals_this_hour: 20 } });
    const events = (await eventsAt(receiver.url)).filter((e) => e.key_id === key.id);
    expect(events).toEqual([
      expect.objectContaining({
        type: "alert.opened",
        owner_id: "owner-burst",
        data: expect.objectContaining({ alert_id: alert!.id, rule: "refusal_burst" }),
      }),
    ]);
  });

  it("revoked_key_use: a revoked key presented again and again", async () => {
    const receiver = hook();
    const key = await mintKey({ owner_id: "owner-leaked" });
    expect(await request(key.apiKey)).toBe(200);
    expect((await revoke(key.id)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect(await request(key.apiKey)).toBe(401);
    await flush(receiver);
    expect(await alertsFor(key.id)).toEqual([]); // default threshold 3
    expect(await request(key.apiKey)).toBe(401);
    await flush(receiver);
    expect(await alertsFor(key.id)).toEqual([
      expect.objectContaining({
        rule: "revoked_key_use",
        details: { attempts_this_hour: 3, by_code: { key_revoked: 3 } },
      }),
    ]);
    expect((await eventsAt(receiver.url)).map((e) => e.data.rule)).toEqual(["revoked_key_use"]);
  });

  it("new_network: a key's first networks set its history; a new /24 alerts once, a known one never", async () => {
    const receiver = hook();
    const key = await mintKey({ owner_id: "owner-net" });
    expect(await request(key.apiKey, { ip: "198.51.100.7" })).toBe(200);
    await flush(receiver);
    expect(await request(key.apiKey, { ip: "198.51.100.99" })).toBe(200); // same /24
    await flush(receiver);
    expect(await alertsFor(key.id)).toEqual([]);

    expect(await request(key.apiKey, { ip: "203.0.113.9" })).toBe(200);
    await flush(receiver);
    expect(await alertsFor(key.id)).toEqual([
      expect.objectContaining({ rule: "new_network", occurrences: 1, details: { networks: ["ip:203.0.113.0/24"] } }),
    ]);

    expect(await request(key.apiKey, { ip: "192.0.2.1" })).toBe(200);
    await flush(receiver);
    const alerts = await alertsFor(key.id);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ occurrences: 2, details: { networks: ["ip:192.0.2.0/24"] } });
    expect((await eventsAt(receiver.url)).map((e) => e.data.rule)).toEqual(["new_network"]);
    const stored = await env.DB.prepare("SELECT network FROM key_networks WHERE key_id = ? ORDER BY network")
      .bind(key.id)
      .all();
    expect(stored.results.map((r) => r.network)).toEqual([
      "ip:192.0.2.0/24",
      "ip:198.51.100.0/24",
      "ip:203.0.113.0/24",
    ]);
  });

  it("new_network: refused attempts from a network do not make it known; only admissions teach the history", async () => {
    const receiver = hook();
    const key = await mintKey({ owner_id: "owner-taught", allowed_routes: ["GET /api/v1/things"] });
    expect(await request(key.apiKey, { ip: "198.51.100.7" })).toBe(200);
    await flush(receiver);
    for (let i = 0; i < 3; i++)
      expect(await request(key.apiKey, { ip: "203.0.113.9", path: "/api/v1/secrets" })).toBe(403);
    await flush(receiver);
    const stored = await env.DB.prepare("SELECT network FROM key_networks WHERE key_id = ?").bind(key.id).all();
    expect(stored.results.map((r) => r.network)).toEqual(["ip:198.51.100.0/24"]);
    expect(await alertsFor(key.id)).toEqual([]); // refusals are the refusal rules' business (3 < 20)

    expect(await request(key.apiKey, { ip: "203.0.113.10" })).toBe(200);
    await flush(receiver);
    expect(await alertsFor(key.id)).toEqual([
      expect.objectContaining({ rule: "new_network", details: { networks: ["ip:203.0.113.0/24"] } }),
    ]);
  });

  it("new_network: a key older than the history window with no history in it (dormant, or pruned) alerts on its next use", async () => {
    const receiver = hook();
    const fresh = await mintKey({ owner_id: "owner-dormant" });
    const dormant = await mintKey({ owner_id: "owner-dormant" });
    const pruned = await mintKey({ owner_id: "owner-dormant" });
    const longAgo = testClock.now() - (NETWORK_HISTORY_DAYS + 60) * DAY_MS;
    await env.DB.batch([
      env.DB.prepare("UPDATE api_keys SET created_at = ? WHERE id IN (?, ?)").bind(longAgo, dormant.id, pruned.id),
      // Seen 40 days ago from this very network: past the history window, so not known any more.
      env.DB.prepare(
        "INSERT INTO key_networks (key_id, network, first_seen, last_seen) VALUES (?1, 'ip:192.0.2.0/24', ?2, ?3)",
      ).bind(pruned.id, longAgo, testClock.now() - 40 * DAY_MS),
    ]);
    expect(await request(fresh.apiKey, { ip: "192.0.2.7" })).toBe(200);
    expect(await request(dormant.apiKey, { ip: "192.0.2.7" })).toBe(200);
    expect(await request(pruned.apiKey, { ip: "192.0.2.7" })).toBe(200);
    await flush(receiver);
    expect(await alertsFor(fresh.id)).toEqual([]); // a new key's first use sets its history
    for (const key of [dormant, pruned]) {
      expect(await alertsFor(key.id)).toEqual([
        expect.objectContaining({
          rule: "new_network",
          occurrences: 1,
          details: { networks: ["ip:192.0.2.0/24"], no_recent_history: true },
        }),
      ]);
    }
    // From then on the network is known again: no further sighting.
    expect(await request(dormant.apiKey, { ip: "192.0.2.8" })).toBe(200);
    await flush(receiver);
    expect((await alertsFor(dormant.id))[0]).toMatchObject({ occurrences: 1 });
    expect((await eventsAt(receiver.url)).map((e) => [e.key_id, e.data.rule]).sort()).toEqual(
      [
        [dormant.id, "new_network"],
        [pruned.id, "new_network"],
      ].sort(),
    );
  });

  it("new_network: reads ASN and country from request.cf; a new address block in a known ASN is not news", async () => {
    const receiver = hook();
    const key = await mintKey({ owner_id: "owner-asn" });
    const from = async (ip: string, asn: number, country: string) => {
      const init = {
        headers: { "X-API-Key": key.apiKey, "CF-Connecting-IP": ip },
        cf: { asn, country },
      } as RequestInit;
      const response = await exports.default.fetch(new Request(`${BASE}/api/v1/things`, init));
      expect(response.status).toBe(200);
    };
    await from("198.51.100.7", 64500, "DE");
    await flush(receiver);
    await from("203.0.113.9", 64500, "DE");
    await flush(receiver);
    expect(await alertsFor(key.id)).toEqual([]);
    await from("203.0.113.9", 64501, "DE");
    await flush(receiver);
    expect(await alertsFor(key.id)).toEqual([
      expect.objectContaining({ rule: "new_network", details: { networks: ["asn:64501"] } }),
    ]);
  });

  it("traffic_spike: admissions over the multiple of the key's own baseline, and never for a key without history", async () => {
    const receiver = hook();
    const settings = {
      ...receiver,
      ALERT_TRAFFIC_MULTIPLE: "3",
      ALERT_TRAFFIC_MIN_REQUESTS: "10",
    } as Partial<Cloudflare.Env>;
    const quiet = await mintKey({ owner_id: "owner-spike" });
    const busy = await mintKey({ owner_id: "owner-spike" });
    const fresh = await mintKey({ owner_id: "owner-spike" });
    const hour = testClock.now() - (testClock.now() % HOUR_MS);
    // 48 hours of history: 2 an hour for `quiet`, 10 an hour for `busy`.
    const history = Array.from({ length: 48 }, (_, i) => hour - (i + 1) * HOUR_MS);
    await env.DB.prepare(
      "INSERT INTO usage_hourly (hour, key_id, outcome, count) SELECT value ->> 0, value ->> 1, 'valid', value ->> 2 FROM json_each(?)",
    )
      .bind(
        JSON.stringify(
          history.flatMap((h) => [
            [h, quiet.id, 2],
            [h, busy.id, 10],
          ]),
        ),
      )
      .run();
    for (const key of [quiet, busy, fresh]) for (let i = 0; i < 12; i++) expect(await request(key.apiKey)).toBe(200);
    await flush(settings);
    expect(await alertsFor(quiet.id)).toEqual([
      expect.objectContaining({
        rule: "traffic_spike",
        details: { admissions_this_hour: 12, baseline_per_hour: 2, multiple: 3 },
      }),
    ]);
    expect(await alertsFor(busy.id)).toEqual([]); // 12 is not over 3 × 10
    expect(await alertsFor(fresh.id)).toEqual([]); // no baseline yet
  });

  it("the same incident reported by several isolates at once is still one alert and one webhook", async () => {
    const receiver = hook();
    const overrides = { ...env, ...receiver } as Cloudflare.Env;
    const key = { keyId: "key_concurrent000000000000", ownerId: "owner-race" };
    const ctx = createExecutionContext();
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        raiseAlert(
          overrides,
          (p) => ctx.waitUntil(p),
          key,
          { rule: "refusal_burst", details: {} },
          testClock.now(),
          HOUR_MS,
        ),
      ),
    );
    await waitOnExecutionContext(ctx);
    expect(results.filter((r) => r.opened)).toHaveLength(1);
    const rows = await env.DB.prepare("SELECT occurrences FROM alerts WHERE key_id = ?")
      .bind(key.keyId)
      .all<{ occurrences: number }>();
    expect(rows.results).toEqual([{ occurrences: 6 }]);
    expect(await eventsAt(receiver.url)).toHaveLength(1);
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

describe("anomaly rules (pure)", () => {
  const at = (ip: string | null, asn: number | null = null, country: string | null = null) => ({ ip, asn, country });

  it("networks: IPv4 /24, IPv6 /48, IPv4-mapped as IPv4, nonsense ignored", () => {
    expect(ipNetwork("203.0.113.77")).toBe("ip:203.0.113.0/24");
    expect(ipNetwork("2001:db8:abcd:12::1")).toBe("ip:2001:db8:abcd::/48");
    expect(ipNetwork("::ffff:198.51.100.4")).toBe("ip:198.51.100.0/24");
    expect(ipNetwork("not-an-ip")).toBeNull();
  });

  it("new networks: none without history for a young key, all of them for a dormant one; a new ASN or country is new; a new block in a known ASN is not", () => {
    expect(newNetworks(new Set(), [at("203.0.113.1", 64500, "DE")], false)).toEqual([]);
    expect(newNetworks(new Set(), [at("203.0.113.1", 64500, "DE"), at(null)], true)).toEqual([
      "asn:64500",
      "country:DE",
      "ip:203.0.113.0/24",
    ]);
    const history = new Set(["ip:198.51.100.0/24", "asn:64500", "country:DE"]);
    for (const predates of [false, true]) {
      expect(newNetworks(history, [at("203.0.113.1", 64500, "DE")], predates)).toEqual([]); // same provider, new addresses
      expect(newNetworks(history, [at("203.0.113.1", 64501, "FR")], predates)).toEqual([
        "asn:64501",
        "country:FR",
        "ip:203.0.113.0/24",
      ]);
      expect(newNetworks(history, [at("198.51.100.9", 64500, "DE")], predates)).toEqual([]);
      // A kind the history never recorded (no cf in local dev) is not compared.
      expect(newNetworks(new Set(["ip:198.51.100.0/24"]), [at("198.51.100.2", 64500, "DE")], predates)).toEqual([]);
    }
  });

  it("a key counts as dormant when older than the network history window", () => {
    const now = Date.UTC(2026, 10, 23);
    expect(keyPredatesHistory(now - NETWORK_HISTORY_DAYS * DAY_MS, now)).toBe(true);
    expect(keyPredatesHistory(now - NETWORK_HISTORY_DAYS * DAY_MS + 1, now)).toBe(false);
    expect(keyPredatesHistory(now - 60_000, now)).toBe(false);
  });

  it("thresholds are inclusive for bursts and strict for traffic, and a spike needs a day of history", () => {
    const base = { newNetworks: [], baseline: null };
    expect(evaluateRules({ ...base, hourCounts: { ip_not_allowed: 19 } }, CONFIG)).toEqual([]);
    expect(
      evaluateRules({ ...base, hourCounts: { ip_not_allowed: 10, route_not_allowed: 10 } }, CONFIG).map((f) => f.rule),
    ).toEqual(["refusal_burst"]);
    expect(evaluateRules({ ...base, hourCounts: { rate_limited: 500, invalid_key: 500 } }, CONFIG)).toEqual([]); // not the key's restrictions
    expect(
      evaluateRules({ ...base, hourCounts: { key_expired: 2, key_revoked: 1 } }, CONFIG).map((f) => f.rule),
    ).toEqual(["revoked_key_use"]);
    const spike = (admissions: number, baseline: { admissions: number; hours: number }) =>
      evaluateRules({ newNetworks: [], baseline, hourCounts: { valid: admissions } }, CONFIG).map((f) => f.rule);
    expect(spike(1000, { admissions: 2400, hours: 24 })).toEqual([]); // exactly 10 × 100
    expect(spike(1001, { admissions: 2400, hours: 24 })).toEqual(["traffic_spike"]);
    expect(spike(1001, { admissions: 230, hours: 23 })).toEqual([]); // less than a day of history
    expect(spike(99, { admissions: 24, hours: 24 })).toEqual([]); // under the minimum
  });
});
