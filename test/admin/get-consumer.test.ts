/** GET /admin/v1/consumers/{id} (src/operations/get-consumer.ts): the consumer object. */
import { describe, expect, it } from "vitest";
import type { ConsumerView } from "../../src/consumers/consumer-record";
import { expectRefusal } from "../hostile/expect";
import { admin, mintKey } from "../helpers";
import { deleteConsumer, getConsumer, makeConsumer, newConsumerId } from "./consumer-helpers";
import { itRefusesWrongCredentials } from "./helpers";

describe("happy path", () => {
  it("answers the consumer with its settings", async () => {
    const made = await makeConsumer({ name: "reader", key_policy: { max_active_keys: 2 } });
    const res = await getConsumer(made.id);
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(await res.json()).toEqual(made);
  });

  it("answers the consumer a key's owner got with its first key: no shared limits, no policy", async () => {
    const owner = newConsumerId("owner");
    await mintKey({ owner_id: owner });
    const consumer = (await (await getConsumer(owner)).json()) as ConsumerView;
    expect(consumer).toMatchObject({ id: owner, status: "active", rate_limits: [], key_policy: {}, version: 1 });
  });

  it("still answers a deleted consumer, marked deleted with its time", async () => {
    const made = await makeConsumer();
    await deleteConsumer(made.id);
    const consumer = (await (await getConsumer(made.id)).json()) as ConsumerView;
    expect(consumer.status).toBe("deleted");
    expect(consumer.deleted_at).not.toBeNull();
  });
});

describe("errors", () => {
  it("answers 404 consumer_not_found for an id no consumer has", async () => {
    await expectRefusal(await getConsumer(newConsumerId("missing")), 404, "consumer_not_found");
  });

  it.each(["a%20b", "x".repeat(129), "%252e%252e", "a%00b"])(
    "answers 404 for the id %s, which no consumer can have",
    async (id) => {
      await expectRefusal(await admin(`/consumers/${id}`, { method: "GET" }), 404, "consumer_not_found");
    },
  );

  it.each(["/consumers/.", "/consumers/..", "/consumers/%2e", "/consumers/%2E%2e"])(
    "%s (a dot segment, resolved away by the URL) is a 404 problem, never a consumer",
    async (path) => {
      const res = await admin(path, { method: "GET" });
      expect(res.status).toBe(404);
      expect(["not_found", "consumer_not_found"]).toContain(((await res.json()) as { code: string }).code);
    },
  );
});

describe("security", () => {
  itRefusesWrongCredentials(async () => ({ method: "GET", path: `/consumers/${(await makeConsumer()).id}` }));

  it("answers 404 for an id shaped like SQL, without reading it as SQL", async () => {
    const res = await admin(`/consumers/${encodeURIComponent("x' OR '1'='1")}`, { method: "GET" });
    await expectRefusal(res, 404, "consumer_not_found");
  });
});
