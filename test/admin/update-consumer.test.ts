/** PATCH /admin/v1/consumers/{id} (src/operations/update-consumer.ts): a consumer's settings, audited, version bumped. */
import { describe, expect, it } from "vitest";
import type { ConsumerView } from "../../src/consumers/consumer-record";
import { expectRefusal } from "../hostile/expect";
import { admin, ADMIN_TOKEN, call, mintKey, problemOf } from "../helpers";
import { testClock } from "../clock";
import {
  consumerAudit,
  consumerSnapshot,
  deleteConsumer,
  getConsumer,
  makeConsumer,
  newConsumerId,
  patchConsumer,
  setConsumerStatus,
} from "./consumer-helpers";
import { getKey, itRefusesWrongCredentials } from "./helpers";

const LIMITS = [{ name: "month", limit: 100_000, window_seconds: 30 * 86_400 }];

describe("happy path", () => {
  it("changes each setting given, bumps the version and updated_at, and answers the consumer", async () => {
    const made = await makeConsumer({ name: "old", metadata: { a: 1 }, key_policy: { max_active_keys: 1 } });
    testClock.advance(5_000);
    const at = testClock.now(); // the call then waits out the consumer's leases on the same clock
    const res = await patchConsumer(made.id, { name: "new", rate_limits: LIMITS });
    expect(res.status).toBe(200);
    const changed = (await res.json()) as ConsumerView;
    expect(changed).toEqual({
      ...made,
      name: "new",
      rate_limits: LIMITS,
      version: 2,
      updated_at: new Date(at).toISOString(),
    });
    expect(await (await getConsumer(made.id)).json()).toEqual(changed);
  });

  it("replaces key_policy and rate_limits whole; {} and [] clear them", async () => {
    const made = await makeConsumer({
      rate_limits: LIMITS,
      key_policy: { max_active_keys: 1, allowed_types: ["secret"] },
    });
    const replaced = (await (
      await patchConsumer(made.id, { key_policy: { max_lifetime_days: 30 } })
    ).json()) as ConsumerView;
    expect(replaced.key_policy).toEqual({ max_lifetime_days: 30 });
    const cleared = (await (await patchConsumer(made.id, { key_policy: {}, rate_limits: [] })).json()) as ConsumerView;
    expect(cleared).toMatchObject({ key_policy: {}, rate_limits: [], version: 3 });
  });

  it("writes one update audit row per change, with the fields given", async () => {
    const made = await makeConsumer();
    await patchConsumer(made.id, { metadata: { tier: "gold" } });
    await patchConsumer(made.id, { name: "second" });
    const rows = await consumerAudit(made.id);
    expect(rows.map((r) => r.action)).toEqual(["create", "update", "update"]);
    expect(rows[1]).toMatchObject({
      subject_type: "consumer",
      consumer_id: made.id,
      changes: { metadata: { tier: "gold" } },
    });
    expect(rows[2]!.changes).toEqual({ name: "second" });
  });

  it("changes a disabled consumer too, and leaves its keys as they were minted", async () => {
    const made = await makeConsumer();
    const key = await mintKey({ owner_id: made.id, scopes: ["read", "write"] });
    await setConsumerStatus(made.id, "disabled");
    const res = await patchConsumer(made.id, { key_policy: { allowed_scopes: ["read"] } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as ConsumerView).status).toBe("disabled");
    expect((await getKey(key.id)).scopes).toEqual(["read", "write"]);
  });
});

describe("errors", () => {
  it("answers 404 consumer_not_found for an unknown consumer, and for a deleted one, changing nothing", async () => {
    await expectRefusal(await patchConsumer(newConsumerId("none"), { name: "x" }), 404, "consumer_not_found");
    const made = await makeConsumer();
    await deleteConsumer(made.id);
    const before = await consumerSnapshot();
    await expectRefusal(await patchConsumer(made.id, { name: "revived" }), 404, "consumer_not_found");
    expect(await consumerSnapshot()).toBe(before);
  });

  it.each([
    ["nothing to change", {}],
    ["a name that is not a string", { name: 5 }],
    ["metadata that is a list", { metadata: [1] }],
    ["a limit without a window", { rate_limits: [{ name: "h", limit: 1 }] }],
    ["an unknown policy rule", { key_policy: { max_keys: 1 } }],
    ["a key policy that is not an object", { key_policy: [] }],
    [
      "default_rate_limits with a duplicate name",
      {
        key_policy: {
          default_rate_limits: [
            { name: "h", limit: 1, window_seconds: 1 },
            { name: "h", limit: 2, window_seconds: 2 },
          ],
        },
      },
    ],
  ])("refuses %s with 400 invalid_request and changes nothing", async (_label, body) => {
    const made = await makeConsumer();
    const before = await consumerSnapshot();
    await expectRefusal(await patchConsumer(made.id, body), 400, "invalid_request");
    expect(await consumerSnapshot()).toBe(before);
  });
});

describe("security", () => {
  itRefusesWrongCredentials(
    async () => ({ method: "PATCH", path: `/consumers/${(await makeConsumer()).id}`, json: { name: "x" } }),
    consumerSnapshot,
  );

  it.each([
    ["id", { id: "another" }],
    ["status", { status: "active" }],
    ["version", { version: 1 }],
    ["created_at", { created_at: 0 }],
    ["updated_at", { updated_at: 0 }],
    ["deleted_at", { deleted_at: null }],
    ["keys_revoked_before", { keys_revoked_before: null }],
    ["revoke_reason", { revoke_reason: "x" }],
  ])("refuses a body that sets %s (no mass assignment) and changes nothing", async (_label, extra) => {
    const made = await makeConsumer();
    const before = await consumerSnapshot();
    await expectRefusal(await patchConsumer(made.id, { name: "x", ...extra }), 400, "invalid_request");
    expect(await consumerSnapshot()).toBe(before);
  });

  it.each([
    ['{"name":"a","__proto__":{"status":"deleted"}}'],
    ['{"key_policy":{"__proto__":{"max_active_keys":0}}}'],
    ['{"name":"a","name":"b"}'],
    ['{"key_policy":{"allowed_types":["secret"]},"key_policy":{}}'],
  ])("%s is 400 and changes nothing", async (text) => {
    const made = await makeConsumer();
    const before = await consumerSnapshot();
    const res = await call(`/admin/v1/consumers/${made.id}`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: text,
    });
    await expectRefusal(res, 400, "invalid_request");
    expect(await consumerSnapshot()).toBe(before);
  });

  it("a dot segment for an id is a 404 problem, and the consumers '.' and '..' are never changed", async () => {
    await mintKey({ owner_id: "." });
    await mintKey({ owner_id: ".." });
    const before = await consumerSnapshot();
    for (const path of ["/consumers/.", "/consumers/..", "/consumers/%2e", "/consumers/%2E%2E", "/consumers/.%2e"]) {
      const res = await admin(path, { method: "PATCH", json: { name: "hijacked" } });
      expect(res.status, path).toBe(404);
      expect(["not_found", "consumer_not_found"]).toContain((await problemOf(res)).code);
    }
    expect(await consumerSnapshot()).toBe(before);
  });
});
