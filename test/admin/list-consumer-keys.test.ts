/** GET /admin/v1/consumers/{id}/keys (src/operations/list-consumer-keys.ts): a consumer's keys, as GET /keys lists them. */
import { describe, expect, it } from "vitest";
import type { ListKeysResult } from "../../src/operations/list-keys";
import { expectRefusal } from "../hostile/expect";
import { admin, mintKey, revoke } from "../helpers";
import { deleteConsumer, makeConsumer, newConsumerId } from "./consumer-helpers";
import { itRefusesWrongCredentials } from "./helpers";

const keysOf = async (id: string, query = "") => {
  const res = await admin(`/consumers/${id}/keys${query}`, { method: "GET" });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as ListKeysResult;
};

describe("happy path", () => {
  it("lists the consumer's keys only, newest first, in pages, with the view GET /keys answers", async () => {
    const consumer = await makeConsumer();
    const minted = [];
    for (let i = 0; i < 3; i++)
      minted.push(await mintKey({ owner_id: consumer.id, environment: i === 2 ? "test" : "live" }));
    await mintKey({ owner_id: newConsumerId("other") });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: ListKeysResult = await keysOf(consumer.id, `?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...page.keys.map((k) => k.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen.sort()).toEqual(minted.map((m) => m.id).sort());

    const viaKeys = (await (await admin(`/keys?owner_id=${consumer.id}`, { method: "GET" })).json()) as ListKeysResult;
    expect(await keysOf(consumer.id)).toEqual(viaKeys);
    expect((await keysOf(consumer.id, "?environment=test")).keys.map((k) => k.id)).toEqual([minted[2]!.id]);
  });

  it("filters by status, and still lists a deleted consumer's (revoked) keys", async () => {
    const consumer = await makeConsumer();
    const a = await mintKey({ owner_id: consumer.id });
    const b = await mintKey({ owner_id: consumer.id });
    await revoke(a.id);
    expect((await keysOf(consumer.id, "?status=revoked")).keys.map((k) => k.id)).toEqual([a.id]);
    expect((await keysOf(consumer.id, "?status=active")).keys.map((k) => k.id)).toEqual([b.id]);
    await revoke(b.id);
    expect((await deleteConsumer(consumer.id)).status).toBe(200);
    expect((await keysOf(consumer.id)).keys).toHaveLength(2);
  });

  it("answers an empty page for a consumer without keys", async () => {
    expect(await keysOf((await makeConsumer()).id)).toEqual({ keys: [], next_cursor: null });
  });
});

describe("errors", () => {
  it("answers 404 consumer_not_found for an id no consumer has", async () => {
    await expectRefusal(
      await admin(`/consumers/${newConsumerId("none")}/keys`, { method: "GET" }),
      404,
      "consumer_not_found",
    );
  });

  it.each(["limit=101", "status=deleted", "owner_id=other", "environment=prod", "cursor=bogus", "limit=1&limit=2"])(
    "refuses %s with 400 invalid_request",
    async (query) => {
      const consumer = await makeConsumer();
      await expectRefusal(
        await admin(`/consumers/${consumer.id}/keys?${query}`, { method: "GET" }),
        400,
        "invalid_request",
      );
    },
  );
});

describe("security", () => {
  itRefusesWrongCredentials(async () => ({ method: "GET", path: `/consumers/${(await makeConsumer()).id}/keys` }));

  it("a '..' id in the path is resolved away by the URL before the Worker: never the consumer '..'", async () => {
    await mintKey({ owner_id: ".." });
    const all = await (await admin("/keys", { method: "GET" })).text();
    // /consumers/../keys is /keys (which the admin may list anyway): clients must not put "." or ".." in a path.
    for (const path of ["/consumers/%2e%2e/keys", "/consumers/../keys"]) {
      const res = await admin(path, { method: "GET" });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(all);
    }
    // /consumers/./keys is /consumers/keys: a consumer named "keys", of which there is none.
    await expectRefusal(await admin("/consumers/./keys", { method: "GET" }), 404, "consumer_not_found");
    // An encoded slash stays in the segment: no consumer can have that id.
    await expectRefusal(await admin("/consumers/%2e%2e%2fkeys", { method: "GET" }), 404, "consumer_not_found");
  });

  it("lists no secret and no hash", async () => {
    const consumer = await makeConsumer();
    const { apiKey } = await mintKey({ owner_id: consumer.id });
    const text = await (await admin(`/consumers/${consumer.id}/keys`, { method: "GET" })).text();
    expect(text).not.toContain(apiKey);
    expect(text).not.toContain("key_hash");
  });
});
