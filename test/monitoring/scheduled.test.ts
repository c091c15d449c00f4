import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { KeyView } from "../../src/keys/key-record";
import { admin, mintKey } from "../helpers";
import { eventsAt, hook, mintedDaysAgo } from "./helpers";
import { testClock } from "../clock";
import { DAY_MS, utcDay } from "../../src/util/time";

/** Runs the Worker's scheduled handler, as the Cron Trigger would, and waits for its background work. */
async function runCron(overrides: Partial<Cloudflare.Env>, scheduledTime = testClock.now()) {
  const ctx = createExecutionContext();
  await worker.scheduled!(
    createScheduledController({ scheduledTime, cron: "0 * * * *" }),
    { ...env, ...overrides } as Cloudflare.Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
}

async function marks(keyId: string): Promise<string[]> {
  const { results } = await env.DB.prepare("SELECT kind FROM key_lifecycle_marks WHERE key_id = ? ORDER BY kind")
    .bind(keyId)
    .all<{ kind: string }>();
  return results.map((r) => r.kind);
}

describe("scheduled job", () => {
  it("notifies once per key expiring within 30 days, marks expired and grace-ended keys, and is idempotent", async () => {
    const receiver = hook();
    const soon = await mintKey({ owner_id: "owner-soon", name: "billing", expires_in_days: 10 });
    await mintedDaysAgo(soon.id, 355);
    const later = await mintKey({ owner_id: "owner-later", expires_in_days: 100 });
    const revokedSoon = await mintKey({ owner_id: "owner-revoked", expires_in_days: 5 });
    expect((await admin(`/keys/${revokedSoon.id}/revoke`)).status).toBe(200);
    const ran = await mintKey({ owner_id: "owner-expired", expires_in_days: 30 });
    await env.DB.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?")
      .bind(testClock.now() - DAY_MS, ran.id)
      .run();
    const rotated = await mintKey({ owner_id: "owner-rotated" });
    const rotation = await admin(`/keys/${rotated.id}/rotate`, { json: { grace_period_hours: 1 } });
    expect(rotation.status).toBe(201);
    await env.DB.prepare("UPDATE api_keys SET grace_until = ? WHERE id = ?")
      .bind(testClock.now() - 1000, rotated.id)
      .run();

    await runCron(receiver);
    const events = await eventsAt(receiver.url);
    expect(events.filter((e) => e.key_id === soon.id)).toEqual([
      expect.objectContaining({
        type: "key.expiring",
        owner_id: "owner-soon",
        data: expect.objectContaining({ name: "billing", days_left: 10 }),
      }),
    ]);
    expect(events.some((e) => e.key_id === later.id || e.key_id === revokedSoon.id || e.key_id === ran.id)).toBe(false);
    expect(await marks(soon.id)).toEqual(["expiry_notice"]);
    expect(await marks(later.id)).toEqual([]);
    expect(await marks(ran.id)).toEqual(["expired"]);
    expect(await marks(rotated.id)).toEqual(["grace_ended"]);
    // The verify path refuses them already; the marks change nothing about that.
    expect(((await admin(`/keys/${ran.id}`, { method: "GET" }).then((r) => r.json())) as KeyView).status).toBe(
      "expired",
    );

    const countBefore = (await env.DB.prepare("SELECT COUNT(*) AS n FROM key_lifecycle_marks").first<{ n: number }>())!
      .n;
    await runCron(receiver);
    await runCron(receiver);
    expect((await eventsAt(receiver.url)).filter((e) => e.type === "key.expiring")).toHaveLength(
      events.filter((e) => e.type === "key.expiring").length,
    );
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM key_lifecycle_marks").first<{ n: number }>())!.n).toBe(
      countBefore,
    );
    expect(await marks(soon.id)).toEqual(["expiry_notice"]);
  });

  it("two runs at once still send one notice per key", async () => {
    const receiver = hook();
    const key = await mintKey({ owner_id: "owner-race", expires_in_days: 3 });
    await mintedDaysAgo(key.id, 362);
    await Promise.all([runCron(receiver), runCron(receiver), runCron(receiver)]);
    expect((await eventsAt(receiver.url)).filter((e) => e.key_id === key.id)).toHaveLength(1);
  });

  it("prunes rollups, networks and alerts past their retention, and keeps the rest", async () => {
    const now = testClock.now();
    const old = now - 500 * DAY_MS;
    const recent = now - 2 * DAY_MS;
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO usage_daily (day, key_id, outcome, count) VALUES (?, 'key_prune', 'valid', 1), (?, 'key_prune', 'valid', 2)",
      ).bind(utcDay(old), utcDay(recent)),
      env.DB.prepare(
        "INSERT INTO usage_hourly (hour, key_id, outcome, count) VALUES (?, 'key_prune', 'valid', 1), (?, 'key_prune', 'valid', 2)",
      ).bind(now - 9 * DAY_MS, recent),
      env.DB.prepare(
        "INSERT INTO usage_consumer_daily (day, consumer_id, outcome, count) VALUES (?, 'owner-prune', 'valid', 1), (?, 'owner-prune', 'valid', 2)",
      ).bind(utcDay(old), utcDay(recent)),
      env.DB.prepare(
        "INSERT INTO usage_consumer_hourly (hour, consumer_id, outcome, count) VALUES (?, 'owner-prune', 'valid', 1), (?, 'owner-prune', 'valid', 2)",
      ).bind(now - 9 * DAY_MS, recent),
      env.DB.prepare(
        "INSERT INTO key_networks (key_id, network, first_seen, last_seen) VALUES ('key_prune', 'ip:10.0.0.0/24', ?1, ?1), ('key_prune', 'ip:10.0.1.0/24', ?2, ?2)",
      ).bind(now - 31 * DAY_MS, recent),
      env.DB.prepare(
        "INSERT INTO alerts (rule, key_id, owner_id, opened_at, last_seen_at) VALUES ('new_network', 'key_prune', 'o', ?1, ?1), ('new_network', 'key_prune', 'o', ?2, ?2)",
      ).bind(now - 181 * DAY_MS, recent),
    ]);
    const remaining = async () =>
      Promise.all(
        [
          "SELECT COUNT(*) AS n FROM usage_daily WHERE key_id = 'key_prune'",
          "SELECT COUNT(*) AS n FROM usage_hourly WHERE key_id = 'key_prune'",
          "SELECT COUNT(*) AS n FROM usage_consumer_daily WHERE consumer_id = 'owner-prune'",
          "SELECT COUNT(*) AS n FROM usage_consumer_hourly WHERE consumer_id = 'owner-prune'",
          "SELECT COUNT(*) AS n FROM key_networks WHERE key_id = 'key_prune'",
          "SELECT COUNT(*) AS n FROM alerts WHERE key_id = 'key_prune'",
        ].map(async (sql) => (await env.DB.prepare(sql).first<{ n: number }>())!.n),
      );
    expect(await remaining()).toEqual([2, 2, 2, 2, 2, 2]);
    await runCron({});
    expect(await remaining()).toEqual([1, 1, 1, 1, 1, 1]);
    const kept = await env.DB.prepare("SELECT day FROM usage_daily WHERE key_id = 'key_prune'").first<{
      day: string;
    }>();
    expect(kept!.day).toBe(utcDay(recent));
    await runCron({});
    expect(await remaining()).toEqual([1, 1, 1, 1, 1, 1]);

    // A malformed retention setting prunes nothing rather than guessing.
    await env.DB.prepare("INSERT INTO usage_daily (day, key_id, outcome, count) VALUES (?, 'key_prune', 'valid', 1)")
      .bind(utcDay(old))
      .run();
    await runCron({ USAGE_RETENTION_DAYS: "ten" } as Partial<Cloudflare.Env>);
    expect((await remaining())[0]).toBe(2);
  });

  // Runs the job 55 days ahead, so it comes last: it marks and prunes whatever the earlier tests left.
  it("a new expiry date gets its own notice, once, after a PATCH moves expires_at", async () => {
    const receiver = hook();
    const key = await mintKey({ owner_id: "owner-extended", expires_in_days: 10 });
    await mintedDaysAgo(key.id, 355);
    const notices = async () =>
      (await eventsAt(receiver.url))
        .filter((e) => e.key_id === key.id && e.type === "key.expiring")
        .map((e) => [e.data.expires_at, e.data.days_left]);
    const now = testClock.now();
    await runCron(receiver, now);
    expect(await notices()).toEqual([[key.key.expires_at, 10]]);

    // Moved beyond the notice window: nothing yet, however often the job runs.
    const extended = now + 60 * DAY_MS;
    const patch = await admin(`/keys/${key.id}`, {
      method: "PATCH",
      json: { expires_at: new Date(extended).toISOString() },
    });
    expect(patch.status).toBe(200);
    await runCron(receiver, now);
    expect(await notices()).toHaveLength(1);

    // Five days before the new date: one notice about it, also when runs repeat or overlap.
    const later = extended - 5 * DAY_MS;
    await runCron(receiver, later);
    await Promise.all([runCron(receiver, later), runCron(receiver, later)]);
    expect(await notices()).toEqual([
      [key.key.expires_at, 10],
      [new Date(extended).toISOString(), 5],
    ]);
    const mark = await env.DB.prepare(
      "SELECT at_time FROM key_lifecycle_marks WHERE key_id = ? AND kind = 'expiry_notice'",
    )
      .bind(key.id)
      .first<{ at_time: number }>();
    expect(mark!.at_time).toBe(extended);
  });
});
