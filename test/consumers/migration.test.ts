/**
 * The upgrade to consumers (migrations/0004_consumers.sql), on data the old schema wrote: this file builds
 * its own D1 state with migrations 0001–0003 only, writes keys, audit rows and an alert the way the code
 * before consumers did (plain SQL, the old columns), applies 0004, and reads everything back through the
 * new code: every owner is a consumer, the keys still work at the gateway, the old audit rows are readable
 * with their key_id.
 */
import { applyD1Migrations, reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { ConsumerView } from "../../src/consumers/consumer-record";
import { generateKey, parseKey } from "../../src/keys/format";
import { sha256Hex } from "../../src/keys/hash";
import type { ListAlertsResult } from "../../src/operations/list-alerts";
import type { ListAuditResult } from "../../src/operations/list-audit";
import type { ListConsumersResult } from "../../src/operations/list-consumers";
import { DAY_MS, HOUR_MS } from "../../src/util/time";
import { admin, gatewayStatus, mintKey } from "../helpers";
import { testClock } from "../clock";

interface OldKey {
  id: string;
  apiKey: string;
  owner: string;
  createdAt: number;
  status: "active" | "revoked";
}

/** A key id as the old code made them. */
const keyId = (n: number) => `key_${String(n).padStart(22, "0")}`;

const OLD_KEYS: Omit<OldKey, "apiKey" | "createdAt">[] = [
  { id: keyId(1), owner: "team-a", status: "active" },
  { id: keyId(2), owner: "team-a", status: "active" },
  { id: keyId(3), owner: ".", status: "active" },
  { id: keyId(4), owner: "..", status: "active" },
  { id: keyId(5), owner: "gone", status: "revoked" },
];

const keys: OldKey[] = [];
let start = 0;

/** One key row with the columns of migration 0001, as the old store inserted it. */
async function insertOldKey(key: OldKey) {
  const parsed = parseKey(key.apiKey, "")!;
  await env.DB.prepare(
    `INSERT INTO api_keys (id, key_hash, prefix, hint, type, environment, owner_id, name, scopes, rate_limits,
       ip_allowlist, allowed_routes, allowed_origins, metadata, status, created_at, expires_at, revoked_at,
       revoke_reason, rotated_from, rotated_to, grace_until, last_used_at, usage_count, version, lineage_id)
     VALUES (?1, ?2, ?3, ?4, 'secret', 'live', ?5, 'old', '["read","write"]',
       '[{"name":"hour","limit":1000,"window_seconds":3600}]', '[]', '[]', '[]', '{}', ?6, ?7, ?8, ?9, ?10,
       NULL, NULL, NULL, NULL, 0, ?11, ?1)`,
  )
    .bind(
      key.id,
      await sha256Hex(key.apiKey),
      parsed.prefix,
      parsed.hint,
      key.owner,
      key.status,
      key.createdAt,
      key.createdAt + 365 * DAY_MS,
      key.status === "revoked" ? key.createdAt + HOUR_MS : null,
      key.status === "revoked" ? "old revocation" : null,
      key.status === "revoked" ? 2 : 1,
    )
    .run();
}

/** An audit row with the columns of migration 0001 (key_id NOT NULL, no subject). */
const insertOldAudit = (keyIdOf: string, action: string, at: number, changes: object) =>
  env.DB.prepare(
    "INSERT INTO audit_log (at, actor, action, key_id, request_id, changes) VALUES (?, 'ADMIN_TOKEN', ?, ?, ?, ?)",
  )
    .bind(at, action, keyIdOf, crypto.randomUUID(), JSON.stringify(changes))
    .run();

beforeAll(async () => {
  // test/setup.ts migrated this file's D1 to the newest schema: start over at the schema before consumers.
  await reset();
  const old = env.TEST_MIGRATIONS.filter((m) => m.name < "0004");
  expect(old.map((m) => m.name)).toEqual(["0001_api_keys.sql", "0002_leaks.sql", "0003_monitoring.sql"]);
  await applyD1Migrations(env.DB, old);
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'consumers'",
  ).all();
  expect(tables.results).toEqual([]);

  start = testClock.now();
  for (const [i, key] of OLD_KEYS.entries()) {
    const full = { ...key, apiKey: generateKey("", "secret", "live"), createdAt: start + i * HOUR_MS };
    keys.push(full);
    await insertOldKey(full);
    await insertOldAudit(key.id, "create", full.createdAt, { scopes: ["read", "write"] });
  }
  await insertOldAudit(keyId(5), "revoke", start + 5 * HOUR_MS, { reason: "old revocation" });
  await env.DB.prepare(
    `INSERT INTO alerts (rule, key_id, owner_id, opened_at, last_seen_at, occurrences, details)
     VALUES ('traffic_spike', ?, 'team-a', ?, ?, 2, '{"count":500}')`,
  )
    .bind(keyId(1), start, start)
    .run();

  testClock.advance(6 * HOUR_MS);
  // The upgrade: only 0004 is new to this database.
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
});

const consumersPage = async (query = "limit=100") =>
  ((await (await admin(`/consumers?${query}`, { method: "GET" })).json()) as ListConsumersResult).consumers;

describe("after the upgrade", () => {
  it("every owner of a key is a consumer, created when its first key was, without limits or policy", async () => {
    const consumers = await consumersPage();
    expect(consumers.map((c) => c.id).sort()).toEqual([".", "..", "gone", "team-a"]);
    const teamA = consumers.find((c) => c.id === "team-a")!;
    expect(teamA).toEqual({
      id: "team-a",
      name: "",
      metadata: {},
      rate_limits: [],
      key_policy: {},
      status: "active",
      created_at: new Date(start).toISOString(),
      updated_at: new Date(start).toISOString(),
      deleted_at: null,
      keys_revoked_before: null,
      revoke_progress: null,
      version: 1,
    } satisfies ConsumerView);
    // The owner whose keys are all revoked is a consumer too, still active.
    expect(consumers.find((c) => c.id === "gone")!.status).toBe("active");
  });

  it("the owners '.' and '..' are found by ?id=, and their keys by GET /keys?owner_id=", async () => {
    expect((await consumersPage("id=.")).map((c) => c.id)).toEqual(["."]);
    expect((await consumersPage("id=..")).map((c) => c.id)).toEqual([".."]);
    const res = await admin("/keys?owner_id=..", { method: "GET" });
    expect(((await res.json()) as { keys: { id: string }[] }).keys.map((k) => k.id)).toEqual([keyId(4)]);
  });

  it("the old keys still work through the gateway, and the revoked one stays revoked", async () => {
    for (const key of keys)
      expect(await gatewayStatus(key.apiKey), key.owner).toBe(key.status === "active" ? 200 : 401);
  });

  it("the old audit rows read through GET /admin/v1/audit with key_id set and their consumer", async () => {
    const res = await admin(`/audit?key_id=${keyId(5)}`, { method: "GET" });
    expect(res.status).toBe(200);
    const { entries } = (await res.json()) as ListAuditResult;
    expect(entries).toMatchObject([
      { action: "revoke", key_id: keyId(5), subject_type: "key", subject_id: keyId(5), consumer_id: "gone" },
      { action: "create", key_id: keyId(5), subject_type: "key", consumer_id: "gone", actor: "ADMIN_TOKEN" },
    ]);
    expect(entries[0]!.changes).toEqual({ reason: "old revocation" });
    expect(entries[1]!.at).toBe(new Date(start + 4 * HOUR_MS).toISOString());

    const trail = await admin("/audit?consumer_id=team-a", { method: "GET" });
    expect(((await trail.json()) as ListAuditResult).entries.map((e) => e.key_id)).toEqual([keyId(2), keyId(1)]);
  });

  it("the old alert reads through GET /admin/v1/alerts with its key", async () => {
    const res = await admin("/alerts", { method: "GET" });
    const { alerts } = (await res.json()) as ListAlertsResult;
    expect(alerts).toMatchObject([{ rule: "traffic_spike", key_id: keyId(1), occurrences: 2 }]);
  });

  it("new code on the upgraded data: a key for an old owner joins its consumer, and audit ids keep counting", async () => {
    const { id } = await mintKey({ owner_id: "team-a" });
    expect((await consumersPage("id=team-a"))[0]!.version).toBe(1);
    const { entries } = (await (await admin(`/audit?key_id=${id}`, { method: "GET" })).json()) as ListAuditResult;
    expect(entries).toHaveLength(1);
    expect(entries[0]!.id).toBeGreaterThan(6);
    const listed = await admin("/consumers/team-a/keys", { method: "GET" });
    expect(((await listed.json()) as { keys: unknown[] }).keys).toHaveLength(3);
    // The consumer whose keys were all revoked before the upgrade can be deleted.
    expect((await admin("/consumers/gone", { method: "DELETE" })).status).toBe(200);
  });
});
