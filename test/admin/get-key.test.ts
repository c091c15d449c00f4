/** GET /admin/v1/keys/{id} (src/operations/get-key.ts): the key object, never its secret. */
import { describe, expect, it } from "vitest";
import { admin, mintKey, problemOf, revoke } from "../helpers";
import { expire, getKey, itRefusesWrongCredentials } from "./helpers";

describe("happy path", () => {
  it("answers the key object without secrets, and 404 for unknown ids", async () => {
    const { id, apiKey } = await mintKey({ name: "reader" });
    const key = await getKey(id);
    expect(key).toMatchObject({ id, name: "reader", status: "active" });
    expect(JSON.stringify(key)).not.toContain(apiKey);
    const missing = await admin("/keys/key_AAAAAAAAAAAAAAAAAAAAAA", { method: "GET" });
    expect((await problemOf(missing)).code).toBe("key_not_found");
  });
});

describe("errors", () => {
  it.each(["nope", "key_short", `key_${"A".repeat(23)}`, "KEY_AAAAAAAAAAAAAAAAAAAAAA"])(
    "answers 404 for the id %s, which no key can have",
    async (id) => {
      const res = await admin(`/keys/${id}`, { method: "GET" });
      expect(res.status).toBe(404);
      expect((await problemOf(res)).code).toBe("key_not_found");
    },
  );
});

describe("security", () => {
  itRefusesWrongCredentials(async () => ({ method: "GET", path: `/keys/${(await mintKey()).id}` }));

  it("answers revoked and expired keys with their derived status, still without the secret", async () => {
    const revoked = await mintKey();
    await revoke(revoked.id, "gone");
    const expired = await mintKey();
    await expire(expired.id);
    expect(await getKey(revoked.id)).toMatchObject({ status: "revoked", revoke_reason: "gone" });
    expect((await getKey(expired.id)).status).toBe("expired");
    for (const { id, apiKey } of [revoked, expired]) expect(JSON.stringify(await getKey(id))).not.toContain(apiKey);
  });

  it("answers 404 for an id shaped like SQL, without reading it as SQL", async () => {
    const res = await admin(`/keys/${encodeURIComponent("key_' OR '1'='1")}`, { method: "GET" });
    expect(res.status).toBe(404);
    expect(await res.text()).not.toMatch(/SELECT|sqlite/i);
  });
});
