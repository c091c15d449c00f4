/** DELETE /admin/v1/consumers/{id} (src/operations/delete-consumer.ts): only once every key is revoked; the row stays. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ConsumerView } from "../../src/consumers/consumer-record";
import { expectRefusal } from "../hostile/expect";
import { admin, ADMIN_TOKEN, call, mintKey, problemOf, revoke } from "../helpers";
import { testClock } from "../clock";
import {
  consumerAudit,
  consumerRow,
  consumerSnapshot,
  deleteConsumer,
  makeConsumer,
  newConsumerId,
} from "./consumer-helpers";
import { expire, itRefusesWrongCredentials } from "./helpers";

describe("happy path", () => {
  it("marks a consumer whose keys are all revoked deleted, keeps the row, and audits it", async () => {
    const made = await makeConsumer({ name: "leaving" });
    const keys = [await mintKey({ owner_id: made.id }), await mintKey({ owner_id: made.id })];
    for (const key of keys) await revoke(key.id);
    testClock.advance(1_000);
    const when = testClock.now(); // the call then waits out the consumer's leases on the same clock
    const res = await deleteConsumer(made.id);
    expect(res.status).toBe(200);
    const deleted = (await res.json()) as ConsumerView;
    const at = new Date(when).toISOString();
    expect(deleted).toEqual({ ...made, status: "deleted", deleted_at: at, updated_at: at, version: 2 });
    expect(await consumerRow(made.id)).toMatchObject({
      status: "deleted",
      deleted_at: when,
      name: "leaving",
    });
    const rows = await consumerAudit(made.id);
    expect(rows.map((r) => r.action)).toEqual(["create", "delete"]);
    expect(rows[1]).toMatchObject({ subject_type: "consumer", subject_id: made.id, consumer_id: made.id });
  });

  it("deletes a consumer that never had a key", async () => {
    expect((await deleteConsumer((await makeConsumer()).id)).status).toBe(200);
  });

  it("is idempotent: a second delete answers the deleted consumer and writes nothing", async () => {
    const made = await makeConsumer();
    const first = await (await deleteConsumer(made.id)).json();
    const before = await consumerSnapshot();
    testClock.advance(1_000);
    const again = await deleteConsumer(made.id);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(first);
    expect(await consumerSnapshot()).toBe(before);
  });
});

describe("errors", () => {
  it.each([
    ["a live key", async (_id: string) => {}],
    ["a disabled key", async (id: string) => void (await admin(`/keys/${id}/disable`))],
    ["an expired key", async (id: string) => void (await expire(id))],
    [
      "a key in its rotation grace period (and its successor)",
      async (id: string) => void (await admin(`/keys/${id}/rotate`, { json: { grace_period_hours: 1 } })),
    ],
  ])("is 409 consumer_has_keys while it has %s that is not revoked, and changes nothing", async (_label, prepare) => {
    const made = await makeConsumer();
    const key = await mintKey({ owner_id: made.id });
    await prepare(key.id);
    const before = await consumerSnapshot();
    const res = await deleteConsumer(made.id);
    await expectRefusal(res, 409, "consumer_has_keys");
    expect(((await res.json()) as { detail: string }).detail).toMatch(/revoke every key/);
    expect(await consumerSnapshot()).toBe(before);
  });

  it("answers 404 consumer_not_found for an id no consumer has", async () => {
    await expectRefusal(await deleteConsumer(newConsumerId("none")), 404, "consumer_not_found");
  });

  it("a key revoked after a refusal lets the next delete through", async () => {
    const made = await makeConsumer();
    const key = await mintKey({ owner_id: made.id });
    expect((await deleteConsumer(made.id)).status).toBe(409);
    await revoke(key.id);
    expect((await deleteConsumer(made.id)).status).toBe(200);
  });
});

describe("security", () => {
  itRefusesWrongCredentials(
    async () => ({ method: "DELETE", path: `/consumers/${(await makeConsumer()).id}` }),
    consumerSnapshot,
  );

  it.each(['{"status":"active"}', '{"force":true}', '{"__proto__":{}}', "[]"])(
    "a body other than {} (%s) is 400 and nothing is deleted",
    async (text) => {
      const made = await makeConsumer();
      const before = await consumerSnapshot();
      const res = await call(`/admin/v1/consumers/${made.id}`, {
        method: "DELETE",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: text,
      });
      await expectRefusal(res, 400, "invalid_request");
      expect(await consumerSnapshot()).toBe(before);
    },
  );

  it("a dot segment for an id is a 404 problem, and the consumers '.' and '..' are never deleted", async () => {
    for (const owner of [".", ".."]) await revoke((await mintKey({ owner_id: owner })).id);
    for (const path of ["/consumers/.", "/consumers/..", "/consumers/%2e", "/consumers/%2e%2e"]) {
      const res = await admin(path, { method: "DELETE" });
      expect(res.status, path).toBe(404);
      expect(["not_found", "consumer_not_found"]).toContain((await problemOf(res)).code);
    }
    const { results } = await env.DB.prepare("SELECT status FROM consumers WHERE id IN ('.', '..')").all();
    expect(results).toEqual([{ status: "active" }, { status: "active" }]);
  });
});
