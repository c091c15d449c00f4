/**
 * The "live key" rule has two forms, `isLive` (keys/key-record.ts) and its SQL in keys/store.ts: every key state
 * at every edge (expiry and grace end exactly now) is judged the same by both, through the real D1.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { generateKey, parseKey } from "../../src/keys/format";
import { sha256Hex } from "../../src/keys/hash";
import {
  effectiveStatus,
  isLive,
  newKeyRecord,
  type KeyRecord,
  type MintedSettings,
  type StoredStatus,
} from "../../src/keys/key-record";
import { findKeysPage, insertKey, listKeysExpiringBy } from "../../src/keys/store";

const HOUR_MS = 3_600_000;

async function storeKey(
  ownerId: string,
  status: StoredStatus,
  expiresAt: number,
  graceUntil: number | null,
  now: number,
): Promise<KeyRecord> {
  const apiKey = generateKey("", "secret", "live");
  const settings: MintedSettings = {
    type: "secret",
    environment: "live",
    owner_id: ownerId,
    name: "",
    scopes: [],
    rate_limits: [],
    ip_allowlist: [],
    allowed_routes: [],
    allowed_origins: [],
    metadata: {},
  };
  const record = {
    ...newKeyRecord(parseKey(apiKey, "")!, settings, { now: now - HOUR_MS, expiresAt }),
    status,
    grace_until: graceUntil,
  };
  await insertKey(env.DB, record, await sha256Hex(apiKey), {
    actor: "test",
    action: "create",
    requestId: "test",
    at: now,
    changes: {},
  });
  return record;
}

describe("the live-key rule", () => {
  it("isLive and the SQL of keys/store.ts agree on every status, expiry and grace end, edges included", async () => {
    const now = Date.now();
    const ownerId = `live-rule-${crypto.randomUUID()}`;
    const records: KeyRecord[] = [];
    for (const status of ["active", "disabled", "revoked"] as const) {
      for (const expiresAt of [now - 1, now, now + 1, now + HOUR_MS]) {
        for (const graceUntil of [null, now - 1, now, now + 1])
          records.push(await storeKey(ownerId, status, expiresAt, graceUntil, now));
      }
    }
    const listed = async (status: "active" | "expired" | "disabled" | "revoked") =>
      new Set((await findKeysPage(env.DB, { ownerId, status, limit: 100 }, now)).records.map((r) => r.id));
    const live = await listed("active");
    const expired = await listed("expired");
    for (const record of records) {
      expect(
        live.has(record.id),
        `${record.status} ${record.expires_at - now} ${record.grace_until && record.grace_until - now}`,
      ).toBe(isLive(record, now));
      expect(expired.has(record.id)).toBe(effectiveStatus(record, now) === "expired");
    }
    expect(live.size).toBeGreaterThan(0);
    expect(expired.size).toBeGreaterThan(0);

    const expiring = new Set((await listKeysExpiringBy(env.DB, now, now + 2 * HOUR_MS)).map((k) => k.id));
    for (const record of records) expect(expiring.has(record.id)).toBe(isLive(record, now));
  });
});
