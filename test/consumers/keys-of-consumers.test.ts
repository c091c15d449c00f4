/**
 * Keys and their consumer (src/operations/create-key.ts, rotate-key.ts, src/consumers/store.ts): a key's
 * owner becomes a consumer with its first key, in the key's own batch; a disabled or deleted consumer gets no
 * new key, by create or rotation, and nothing is written.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ConsumerView } from "../../src/consumers/consumer-record";
import {
  consumerAudit,
  consumerRow,
  consumerSnapshot,
  deleteConsumer,
  getConsumer,
  makeConsumer,
  newConsumerId,
  setConsumerStatus,
} from "../admin/consumer-helpers";
import { readOnlyD1 } from "../faults/wrappers";
import { expectRefusal } from "../hostile/expect";
import { admin, ADMIN_TOKEN, callWith, gatewayStatus, mintKey, revoke } from "../helpers";

describe("a key's owner becomes a consumer", () => {
  it("with its first key, in the key's batch: no shared limits, no policy, audited as created with the key", async () => {
    const owner = newConsumerId("new-owner");
    expect(await consumerRow(owner)).toBeNull();
    const first = await mintKey({ owner_id: owner });
    const consumer = (await (await getConsumer(owner)).json()) as ConsumerView;
    expect(consumer).toMatchObject({ id: owner, status: "active", rate_limits: [], key_policy: {}, version: 1 });
    expect(consumer.created_at).toBe(first.key.created_at);
    const rows = await consumerAudit(owner);
    expect(rows).toMatchObject([{ action: "create", consumer_id: owner, changes: { created_for_key: first.id } }]);

    // A second key finds it: no second consumer row or audit row.
    await mintKey({ owner_id: owner });
    expect(await consumerAudit(owner)).toHaveLength(1);
    const trail = await admin(`/audit?consumer_id=${owner}`, { method: "GET" });
    const entries = ((await trail.json()) as { entries: { subject_type: string }[] }).entries;
    expect(entries.map((e) => e.subject_type)).toEqual(["key", "key", "consumer"]);
  });

  it("the key works at the gateway as before consumers", async () => {
    const { apiKey } = await mintKey({ owner_id: newConsumerId("plain") });
    expect(await gatewayStatus(apiKey)).toBe(200);
  });

  it("a failed batch writes neither the key nor the consumer", async () => {
    const owner = newConsumerId("failed");
    const before = await consumerSnapshot();
    const res = await callWith({ DB: readOnlyD1() }, "/admin/v1/keys", {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ owner_id: owner }),
    });
    expect(res.status).toBe(503);
    expect(await consumerSnapshot()).toBe(before);
    expect(await consumerRow(owner)).toBeNull();
  });
});

describe("a consumer that is not active gets no new key", () => {
  it.each(["disabled", "deleted"] as const)(
    "a %s consumer: a create is 409 consumer_state_conflict and writes nothing",
    async (status) => {
      const consumer = await makeConsumer();
      await setConsumerStatus(consumer.id, status);
      const before = await consumerSnapshot();
      const res = await admin("/keys", { json: { owner_id: consumer.id } });
      await expectRefusal(res, 409, "consumer_state_conflict");
      expect(await res.json()).toMatchObject({ consumer_status: status, detail: `the key's consumer is ${status}` });
      expect(await consumerSnapshot()).toBe(before);
    },
  );

  it("a disabled consumer: a rotation is 409 and nothing is minted; the old key is unchanged", async () => {
    const consumer = await makeConsumer();
    const { id } = await mintKey({ owner_id: consumer.id });
    await setConsumerStatus(consumer.id, "disabled");
    const before = await consumerSnapshot();
    await expectRefusal(await admin(`/keys/${id}/rotate`, { json: {} }), 409, "consumer_state_conflict");
    expect(await consumerSnapshot()).toBe(before);
  });

  it("a deleted consumer (through DELETE) stays without keys", async () => {
    const consumer = await makeConsumer();
    await revoke((await mintKey({ owner_id: consumer.id })).id);
    expect((await deleteConsumer(consumer.id)).status).toBe(200);
    await expectRefusal(await admin("/keys", { json: { owner_id: consumer.id } }), 409, "consumer_state_conflict");
  });

  it("enabled again (status active), it gets keys again", async () => {
    const consumer = await makeConsumer();
    await setConsumerStatus(consumer.id, "disabled");
    expect((await admin("/keys", { json: { owner_id: consumer.id } })).status).toBe(409);
    await setConsumerStatus(consumer.id, "active");
    expect((await admin("/keys", { json: { owner_id: consumer.id } })).status).toBe(201);
    const { results } = await env.DB.prepare("SELECT id FROM api_keys WHERE owner_id = ?").bind(consumer.id).all();
    expect(results).toHaveLength(1);
  });
});
