/**
 * The consumers' store on its own (src/consumers/store.ts) against real D1: versions and audit rows, and the
 * gate a key's batch runs, which stops a key minted on a consumer that changed after it was read.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AuditEntry } from "../../src/audit/audit-log";
import {
  findConsumerById,
  insertConsumer,
  keyAdmissionGate,
  markConsumerDeleted,
  updateConsumerSettings,
} from "../../src/consumers/store";
import { generateKey, parseKey } from "../../src/keys/format";
import { sha256Hex } from "../../src/keys/hash";
import { newKeyRecord } from "../../src/keys/key-record";
import { writeRotation } from "../../src/keys/rotation-store";
import { insertKey } from "../../src/keys/store";
import { DAY_MS } from "../../src/util/time";
import { consumerAudit, consumerSnapshot, newConsumerId, setConsumerStatus } from "../admin/consumer-helpers";
import { testClock } from "../clock";

const audit = (action: AuditEntry["action"], changes: Record<string, unknown> = {}): AuditEntry => ({
  actor: "test",
  action,
  requestId: crypto.randomUUID(),
  at: testClock.now(),
  changes,
});

const SETTINGS = { name: "n", metadata: {}, rate_limits: [], key_policy: {} };

async function newKey(ownerId: string) {
  const apiKey = generateKey("", "secret", "live");
  const record = newKeyRecord(
    parseKey(apiKey, "")!,
    {
      type: "secret",
      environment: "live",
      owner_id: ownerId,
      name: "",
      scopes: ["read"],
      rate_limits: [{ name: "hour", limit: 10, window_seconds: 3600 }],
      ip_allowlist: [],
      allowed_routes: [],
      allowed_origins: [],
      metadata: {},
    },
    { now: testClock.now(), expiresAt: testClock.now() + DAY_MS },
  );
  return { record, keyHash: await sha256Hex(apiKey) };
}

const keyExists = async (id: string) =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE id = ?").bind(id).first<{ n: number }>())!.n === 1;

describe("changes", () => {
  it("every change bumps the version and writes one audit row; one that matches nothing writes none", async () => {
    const id = newConsumerId("store");
    expect(await insertConsumer(env.DB, id, SETTINGS, audit("create"))).toEqual({ created: true });
    expect(await insertConsumer(env.DB, id, { ...SETTINGS, name: "again" }, audit("create"))).toEqual({
      created: false,
    });
    expect((await findConsumerById(env.DB, id))!.record).toMatchObject({ name: "n", version: 1 });

    expect(await updateConsumerSettings(env.DB, id, { name: "m" }, audit("update"))).toEqual({ changed: true });
    expect(await updateConsumerSettings(env.DB, id, { key_policy: { max_active_keys: 1 } }, audit("update"))).toEqual({
      changed: true,
    });
    const stored = (await findConsumerById(env.DB, id))!;
    expect(stored.record).toMatchObject({ name: "m", key_policy: { max_active_keys: 1 }, version: 3 });
    expect(stored.keyPolicyText).toBe('{"max_active_keys":1}');

    expect(await markConsumerDeleted(env.DB, id, audit("delete"))).toEqual({ deleted: true });
    expect(await markConsumerDeleted(env.DB, id, audit("delete"))).toEqual({ deleted: false });
    expect(await updateConsumerSettings(env.DB, id, { name: "x" }, audit("update"))).toEqual({ changed: false });
    expect((await findConsumerById(env.DB, id))!.record).toMatchObject({ status: "deleted", version: 4, name: "m" });
    expect((await consumerAudit(id)).map((r) => r.action)).toEqual(["create", "update", "update", "delete"]);
  });

  it("a consumer with a key that is not revoked is not deleted, checked in the same statement", async () => {
    const id = newConsumerId("keys");
    await insertConsumer(env.DB, id, SETTINGS, audit("create"));
    const { record, keyHash } = await newKey(id);
    await insertKey(env.DB, record, keyHash, audit("create"));
    const before = await consumerSnapshot();
    expect(await markConsumerDeleted(env.DB, id, audit("delete"))).toEqual({ deleted: false });
    expect(await consumerSnapshot()).toBe(before);
  });
});

describe("the key admission gate", () => {
  const admit = async (
    ownerId: string,
    read: Awaited<ReturnType<typeof findConsumerById>>,
    max: number | null = null,
  ) => {
    const { record, keyHash } = await newKey(ownerId);
    const gate = keyAdmissionGate(env.DB, ownerId, read, audit("create", { created_for_key: record.id }));
    const { inserted } = await insertKey(env.DB, record, keyHash, audit("create"), {
      gate,
      maxCountedKeys: max,
      now: testClock.now(),
    });
    return { inserted, id: record.id };
  };

  it("admits a key for an owner without a consumer, creating it", async () => {
    const owner = newConsumerId("gate-new");
    const { inserted, id } = await admit(owner, null);
    expect(inserted).toBe(true);
    expect(await keyExists(id)).toBe(true);
    expect((await findConsumerById(env.DB, owner))!.record).toMatchObject({ status: "active", version: 1 });
  });

  it("stops the key, writing nothing, when the consumer changed after it was read", async () => {
    const owner = newConsumerId("gate-changed");
    await insertConsumer(env.DB, owner, SETTINGS, audit("create"));
    const read = await findConsumerById(env.DB, owner);
    await updateConsumerSettings(env.DB, owner, { key_policy: { allowed_scopes: [] } }, audit("update"));
    const before = await consumerSnapshot();
    const { inserted, id } = await admit(owner, read);
    expect(inserted).toBe(false);
    expect(await keyExists(id)).toBe(false);
    expect(await consumerSnapshot()).toBe(before);
    // Read again, it admits.
    expect((await admit(owner, await findConsumerById(env.DB, owner))).inserted).toBe(true);
  });

  it("stops the key when the consumer was disabled after it was read", async () => {
    const owner = newConsumerId("gate-disabled");
    await insertConsumer(env.DB, owner, SETTINGS, audit("create"));
    const read = await findConsumerById(env.DB, owner);
    await env.DB.prepare("UPDATE consumers SET status = 'disabled' WHERE id = ?").bind(owner).run();
    expect((await admit(owner, read)).inserted).toBe(false);
  });

  it("stops a key whose owner got a consumer with a policy after it was read as having none", async () => {
    const owner = newConsumerId("gate-raced");
    await insertConsumer(env.DB, owner, { ...SETTINGS, key_policy: { max_active_keys: 0 } }, audit("create"));
    expect((await admit(owner, null)).inserted).toBe(false);
  });

  it("counts the owner's keys in the batch: the bound holds whatever was read", async () => {
    const owner = newConsumerId("gate-count");
    await insertConsumer(env.DB, owner, SETTINGS, audit("create"));
    const read = await findConsumerById(env.DB, owner);
    expect((await admit(owner, read, 2)).inserted).toBe(true);
    expect((await admit(owner, read, 2)).inserted).toBe(true);
    expect((await admit(owner, read, 2)).inserted).toBe(false);
  });

  it("a rotation's gate stops it, writing nothing, and says it was the gate", async () => {
    const owner = newConsumerId("gate-rotate");
    await insertConsumer(env.DB, owner, SETTINGS, audit("create"));
    const old = await newKey(owner);
    await insertKey(env.DB, old.record, old.keyHash, audit("create"));
    const read = await findConsumerById(env.DB, owner);
    await setConsumerStatus(owner, "disabled");
    const successor = await newKey(owner);
    const before = await consumerSnapshot();
    const rotation = () =>
      writeRotation(
        env.DB,
        {
          id: old.record.id,
          now: testClock.now(),
          basis: { kind: "first" },
          graceUntil: testClock.now() + 1000,
          graceDeferredMs: null,
          rotationToken: null,
        },
        successor.record,
        successor.keyHash,
        { predecessor: audit("rotate"), successor: audit("rotate"), replaced: null },
        keyAdmissionGate(env.DB, owner, read, audit("create")),
      );
    expect(await rotation()).toEqual({ rotated: false, gated: true });
    expect(await consumerSnapshot()).toBe(before);
    await setConsumerStatus(owner, "active"); // the version moved on: the old read still does not pass
    expect(await rotation()).toEqual({ rotated: false, gated: true });
  });
});
