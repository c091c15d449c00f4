/**
 * The objects' read-only `peek` (src/limits/key-object.ts, src/consumers/consumer-object.ts): the state and
 * the remaining limits, with nothing taken and no lease granted.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { testClock } from "../clock";
import { admin, mintKey, revoke } from "../helpers";
import { request } from "../monitoring/helpers";

const keyStub = (lineage: string) => env.KEY_OBJECT.get(env.KEY_OBJECT.idFromName(lineage));
const consumerStub = (id: string) => env.CONSUMER_OBJECT.get(env.CONSUMER_OBJECT.idFromName(id));
const storage = (stub: DurableObjectStub) =>
  runInDurableObject(stub, async (_o, state) => JSON.stringify([...state.storage.kv.list()]));

describe("the key object's peek", () => {
  it("answers what is left without taking it, and leaves storage as it was", async () => {
    testClock.advanceToNextWindow(3600);
    const { apiKey, key } = await mintKey({ rate_limits: [{ name: "hour", limit: 3, window_seconds: 3600 }] });
    expect(await request(apiKey)).toBe(200);
    const stub = keyStub(key.lineage_id);
    const before = await storage(stub);
    for (let i = 0; i < 10; i++) {
      const answer = await stub.peek({ keyId: key.id, version: key.version });
      expect(answer).toMatchObject({ version: key.version, refusal: null, limits: [{ name: "hour", remaining: 2 }] });
    }
    expect(await storage(stub)).toBe(before);
    const acquired = await stub.acquire({ keyId: key.id, version: key.version, want: 1 });
    expect(acquired).toMatchObject({ ok: true, limits: [{ remaining: 1 }] });
  });

  it("answers stale for another version, the key's refusal once it is revoked, invalid_key for no key", async () => {
    const { id, key } = await mintKey();
    const stub = keyStub(key.lineage_id);
    expect((await stub.peek({ keyId: id, version: key.version + 1 })).refusal).toBe("stale");
    await revoke(id);
    expect(await stub.peek({ keyId: id })).toMatchObject({ refusal: "key_revoked", version: key.version + 1 });
    expect(await keyStub("key_nobody").peek({ keyId: `key_${"B".repeat(22)}` })).toEqual({
      version: 0,
      refusal: "invalid_key",
      limits: [],
    });
  });
});

describe("the consumer object's peek", () => {
  it("answers the shared limits untaken, consumer_disabled, and key_revoked for a key older than revoke-keys", async () => {
    testClock.advanceToNextWindow(3600);
    const owner = `peek-${crypto.randomUUID()}`;
    const { apiKey, key } = await mintKey({ owner_id: owner });
    const patched = await admin(`/consumers/${owner}`, {
      method: "PATCH",
      json: { rate_limits: [{ name: "hour", limit: 9, window_seconds: 3600 }] },
    });
    expect(patched.status).toBe(200);
    expect(await request(apiKey)).toBe(200);
    const stub = consumerStub(owner);
    const before = await storage(stub);
    const peeked = await stub.peek({ consumerId: owner, keyCreatedAt: Date.parse(key.created_at) });
    expect(peeked).toMatchObject({ refusal: null, limits: [{ name: "hour", remaining: 8 }] });
    expect(await storage(stub)).toBe(before);

    expect((await admin(`/consumers/${owner}/revoke-keys`)).status).toBe(200);
    expect((await stub.peek({ consumerId: owner, keyCreatedAt: Date.parse(key.created_at) })).refusal).toBe(
      "key_revoked",
    );
    expect((await stub.peek({ consumerId: owner })).refusal).toBeNull();
    expect((await admin(`/consumers/${owner}/disable`)).status).toBe(200);
    expect((await stub.peek({ consumerId: owner })).refusal).toBe("consumer_disabled");
  });
});
