/** POST /admin/v1/consumers (src/operations/create-consumer.ts): a consumer, its audit row, and what is refused. */
import { describe, expect, it } from "vitest";
import type { ConsumerView } from "../../src/consumers/consumer-record";
import { expectRefusal } from "../hostile/expect";
import { admin, ADMIN_TOKEN, call } from "../helpers";
import { testClock } from "../clock";
import { consumerAudit, consumerRow, consumerSnapshot, makeConsumer, newConsumerId } from "./consumer-helpers";
import { itRefusesWrongCredentials } from "./helpers";

const LIMITS = [{ name: "day", limit: 10_000, window_seconds: 86_400 }];
const POLICY = {
  max_active_keys: 3,
  allowed_scopes: ["read", "write"],
  allowed_types: ["secret"],
  allowed_environments: ["test"],
  max_lifetime_days: 90,
  default_rate_limits: [{ name: "minute", limit: 60, window_seconds: 60 }],
};

describe("happy path", () => {
  it("creates a consumer with its settings, answers it, and stores it with version 1", async () => {
    const id = newConsumerId("acme");
    const res = await admin("/consumers", {
      json: { id, name: "Acme Corp", metadata: { plan: "pro" }, rate_limits: LIMITS, key_policy: POLICY },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const consumer = (await res.json()) as ConsumerView;
    expect(consumer).toEqual({
      id,
      name: "Acme Corp",
      metadata: { plan: "pro" },
      rate_limits: LIMITS,
      key_policy: POLICY,
      status: "active",
      created_at: new Date(testClock.now()).toISOString(),
      updated_at: new Date(testClock.now()).toISOString(),
      deleted_at: null,
      keys_revoked_before: null,
      revoke_progress: null,
      version: 1,
    });
    const row = await consumerRow(id);
    expect(row).toMatchObject({ status: "active", version: 1, created_at: testClock.now(), deleted_at: null });
    expect(JSON.parse(String(row!.key_policy))).toEqual(POLICY);
  });

  it("defaults to no name, no metadata, no shared limits and no key policy", async () => {
    const consumer = await makeConsumer();
    expect(consumer).toMatchObject({ name: "", metadata: {}, rate_limits: [], key_policy: {} });
  });

  it("writes one create audit row in the same batch, with the consumer as subject and the settings", async () => {
    const consumer = await makeConsumer({ name: "audited", rate_limits: LIMITS });
    const rows = await consumerAudit(consumer.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      action: "create",
      actor: "ADMIN_TOKEN",
      subject_type: "consumer",
      subject_id: consumer.id,
      consumer_id: consumer.id,
    });
    expect(rows[0]!.changes).toMatchObject({ name: "audited", rate_limits: LIMITS });
    const audit = await admin(`/audit?consumer_id=${consumer.id}`, { method: "GET" });
    const entries = ((await audit.json()) as { entries: { subject_type: string; key_id: string | null }[] }).entries;
    expect(entries).toMatchObject([{ subject_type: "consumer", key_id: null }]);
  });

  it("accepts ids of the whole grammar, three dots included", async () => {
    for (const id of ["...", "a.b", "user@example.com", "org:team+1", `x${"y".repeat(127)}`]) {
      const res = await admin("/consumers", { json: { id } });
      expect(res.status, id).toBe(201);
    }
  });
});

describe("errors", () => {
  it("is 409 consumer_exists for an id that exists, or existed, and changes nothing", async () => {
    const consumer = await makeConsumer({ name: "first" });
    const before = await consumerSnapshot();
    const res = await admin("/consumers", { json: { id: consumer.id, name: "second" } });
    await expectRefusal(res, 409, "consumer_exists");
    expect(await consumerSnapshot()).toBe(before);

    await admin(`/consumers/${consumer.id}`, { method: "DELETE" });
    await expectRefusal(await admin("/consumers", { json: { id: consumer.id } }), 409, "consumer_exists");
  });

  it.each([
    ["no id", {}],
    ["an id of one dot", { id: "." }],
    ["an id of two dots", { id: ".." }],
    ["an id with a slash", { id: "a/b" }],
    ["an id with a space", { id: "a b" }],
    ["an empty id", { id: "" }],
    ["an id over 128 characters", { id: "x".repeat(129) }],
    ["a name with a control character", { id: "n", name: "a\u0001b" }],
    ["metadata over 1 KB", { id: "n", metadata: { blob: "x".repeat(1100) } }],
    ["a zero limit", { id: "n", rate_limits: [{ name: "h", limit: 0, window_seconds: 60 }] }],
    [
      "duplicate limit names",
      {
        id: "n",
        rate_limits: [
          { name: "h", limit: 1, window_seconds: 60 },
          { name: "h", limit: 2, window_seconds: 60 },
        ],
      },
    ],
    [
      "nine limits",
      { id: "n", rate_limits: Array.from({ length: 9 }, (_, i) => ({ name: `l${i}`, limit: 1, window_seconds: 60 })) },
    ],
    ["an unknown policy rule", { id: "n", key_policy: { max_keys: 3 } }],
    ["a negative max_active_keys", { id: "n", key_policy: { max_active_keys: -1 } }],
    ["a bad allowed scope", { id: "n", key_policy: { allowed_scopes: ["Read All"] } }],
    ["an unknown allowed type", { id: "n", key_policy: { allowed_types: ["root"] } }],
    ["no allowed environment", { id: "n", key_policy: { allowed_environments: [] } }],
    ["a type listed twice", { id: "n", key_policy: { allowed_types: ["secret", "secret"] } }],
    ["a zero max_lifetime_days", { id: "n", key_policy: { max_lifetime_days: 0 } }],
    ["empty default_rate_limits", { id: "n", key_policy: { default_rate_limits: [] } }],
  ])("refuses %s with 400 invalid_request and stores nothing", async (_label, body) => {
    const before = await consumerSnapshot();
    const res = await admin("/consumers", { json: body });
    await expectRefusal(res, 400, "invalid_request");
    const problem = (await res.json()) as { errors: { path: string }[] };
    expect(problem.errors.length).toBeGreaterThan(0);
    expect(await consumerSnapshot()).toBe(before);
  });

  it("refuses bodies that are not JSON, not declared as JSON, or too large", async () => {
    const before = await consumerSnapshot();
    await expectRefusal(
      await admin("/consumers", { headers: { "Content-Type": "application/json" }, body: "{id:" }),
      400,
      "invalid_request",
    );
    await expectRefusal(
      await admin("/consumers", { headers: { "Content-Type": "text/plain" }, body: '{"id":"x"}' }),
      415,
      "unsupported_media_type",
    );
    await expectRefusal(
      await admin("/consumers", { json: { id: "big", name: "x".repeat(20_000) } }),
      413,
      "payload_too_large",
    );
    expect(await consumerSnapshot()).toBe(before);
  });
});

describe("security", () => {
  itRefusesWrongCredentials(
    async () => ({ method: "POST", path: "/consumers", json: { id: newConsumerId() } }),
    consumerSnapshot,
  );

  it.each([
    ["status", { status: "disabled" }],
    ["version", { version: 7 }],
    ["created_at", { created_at: 0 }],
    ["updated_at", { updated_at: 0 }],
    ["deleted_at", { deleted_at: null }],
    ["keys_revoked_before", { keys_revoked_before: 0 }],
    ["revoke_progress", { revoke_progress: {} }],
    ["owner_id", { owner_id: "someone" }],
    ["Name", { Name: "x" }],
  ])("refuses a body that sets %s (no mass assignment) and stores nothing", async (_label, extra) => {
    const before = await consumerSnapshot();
    await expectRefusal(await admin("/consumers", { json: { id: newConsumerId(), ...extra } }), 400, "invalid_request");
    expect(await consumerSnapshot()).toBe(before);
  });

  it.each([
    ['{"id":"proto-1","__proto__":{"status":"disabled"}}'],
    ['{"id":"proto-2","metadata":{"__proto__":{"admin":true}}}'],
    ['{"id":"proto-3","key_policy":{"constructor":{"prototype":{"max_active_keys":1}}}}'],
    ['{"id":"dup-1","id":"dup-2"}'],
    ['{"id":"dup-3","key_policy":{"max_active_keys":1,"max_active_keys":1000}}'],
  ])("%s is 400 and nothing is stored, nor any prototype touched", async (text) => {
    const before = await consumerSnapshot();
    const res = await call("/admin/v1/consumers", {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: text,
    });
    await expectRefusal(res, 400, "invalid_request");
    expect(await consumerSnapshot()).toBe(before);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(({} as Record<string, unknown>).status).toBeUndefined();
  });

  it("does not echo the submitted values in a refusal", async () => {
    const marker = "hostile-marker-91c2";
    const res = await admin("/consumers", { json: { id: `${marker} x`, name: 5 } });
    await expectRefusal(res, 400, "invalid_request", [marker]);
  });
});
