/** GET /admin/v1/alerts (src/operations/list-alerts.ts): anomaly alerts, newest first (test/monitoring/alerts.test.ts raises them). */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ListAlertsResult } from "../../src/operations/list-alerts";
import { ADMIN_TOKEN, callWith } from "../helpers";
import { getJson } from "../monitoring/helpers";
import { itRefusesWrongCredentials } from "./helpers";
import { testClock } from "../clock";
import { HOUR_MS } from "../../src/util/time";

const KEY = "key_list000000000000000000";

async function alertsFor(keyId: string, query = "") {
  const { status, body } = await getJson<ListAlertsResult>(`/alerts?key_id=${keyId}${query}`);
  expect(status).toBe(200);
  return body.alerts;
}

describe("happy path", () => {
  it("lists alerts by status and rule, newest first, with cursors", async () => {
    const now = testClock.now();
    await env.DB.prepare(
      "INSERT INTO alerts (rule, key_id, owner_id, opened_at, last_seen_at, details) VALUES ('new_network', 'key_list000000000000000000', 'o', ?1, ?1, '{}'), ('refusal_burst', 'key_list000000000000000000', 'o', ?2, ?2, '{}'), ('new_network', 'key_list000000000000000000', 'o', ?2, ?2, '{}')",
    )
      .bind(now - 2 * HOUR_MS, now - 60_000)
      .run();
    const all = await alertsFor(KEY);
    expect(all.map((a) => [a.rule, a.status])).toEqual([
      ["new_network", "open"],
      ["refusal_burst", "open"],
      ["new_network", "closed"],
    ]);
    expect((await alertsFor(KEY, "&status=open")).length).toBe(2);
    expect((await alertsFor(KEY, "&rule=new_network")).length).toBe(2);
    const page = await getJson<ListAlertsResult>(`/alerts?key_id=${KEY}&limit=2`);
    expect(page.body.alerts).toHaveLength(2);
    const rest = await getJson<ListAlertsResult>(`/alerts?key_id=${KEY}&limit=2&cursor=${page.body.next_cursor}`);
    expect(rest.body.alerts.map((a) => a.id)).toEqual([all[2]!.id]);
    expect(rest.body.next_cursor).toBeNull();
  });

  it("filters by consumer: its keys' alerts and its consumer-wide ones (no key), nobody else's", async () => {
    const now = testClock.now();
    await env.DB.prepare(
      `INSERT INTO alerts (rule, key_id, owner_id, opened_at, last_seen_at, details) VALUES
         ('new_network', 'key_teamA00000000000000000', 'team-a', ?1, ?1, '{}'),
         ('consumer_traffic_spike', NULL, 'team-a', ?1, ?1, '{"admissions_this_hour":500}'),
         ('consumer_traffic_spike', NULL, 'team-b', ?1, ?1, '{}')`,
    )
      .bind(now - 60_000)
      .run();
    const { body } = await getJson<ListAlertsResult>("/alerts?consumer_id=team-a");
    expect(body.alerts.map((a) => [a.rule, a.key_id, a.owner_id])).toEqual([
      ["consumer_traffic_spike", null, "team-a"],
      ["new_network", "key_teamA00000000000000000", "team-a"],
    ]);
    expect(body.alerts[0]!.details).toEqual({ admissions_this_hour: 500 });
    const spikes = await getJson<ListAlertsResult>("/alerts?rule=consumer_traffic_spike&status=open");
    expect(spikes.body.alerts.map((a) => a.owner_id).sort()).toEqual(["team-a", "team-b"]);
    // A key filter never matches a consumer-wide alert.
    expect(await alertsFor("key_teamA00000000000000000")).toHaveLength(1);
  });
});

describe("errors", () => {
  it("refuses bad filters", async () => {
    expect((await getJson("/alerts?status=maybe")).status).toBe(400);
    expect((await getJson("/alerts?rule=everything")).status).toBe(400);
    expect((await getJson("/alerts?cursor=abc")).status).toBe(400);
    expect((await getJson("/alerts?consumer_id=")).status).toBe(400);
    expect((await getJson(`/alerts?consumer_id=${"c".repeat(129)}`)).status).toBe(400);
  });

  it("answers 503 when the monitoring settings are malformed", async () => {
    const res = await callWith({ ALERT_DEDUPE_MINUTES: "soon" } as Partial<Cloudflare.Env>, "/admin/v1/alerts", {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(503);
  });
});

describe("security", () => {
  itRefusesWrongCredentials(async () => ({ method: "GET", path: "/alerts" }));

  it("refuses a key id filter shaped like SQL (400), and an unknown key has no alerts", async () => {
    expect((await getJson(`/alerts?key_id=${encodeURIComponent("key_' OR '1'='1")}`)).status).toBe(400);
    expect(await alertsFor("key_AAAAAAAAAAAAAAAAAAAAAA")).toEqual([]);
  });

  it("refuses a consumer filter shaped like SQL (400); '.' is a legacy owner id, filtered like any other", async () => {
    expect((await getJson(`/alerts?consumer_id=${encodeURIComponent("x' OR '1'='1")}`)).status).toBe(400);
    const dot = await getJson<ListAlertsResult>("/alerts?consumer_id=.");
    expect(dot.status).toBe(200);
    expect(dot.body.alerts).toEqual([]);
  });
});
