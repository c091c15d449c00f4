/** PATCH /admin/v1/keys/{id} (src/operations/update-key.ts): a key's settings, in force when the call returns. */
import { describe, expect, it } from "vitest";
import type { KeyView } from "../../src/keys/key-record";
import { admin, mintKey, problemOf } from "../helpers";
import { expire, getKey, itRefusesWrongCredentials, patch, through, versionOf } from "./helpers";
import { testClock } from "../clock";
import { DAY_MS } from "../../src/util/time";

describe("happy path", () => {
  it("changes settings, and the change governs every request once the call returns", async () => {
    testClock.advanceToNextWindow(3600); // the counts below stay in one hour's window across the lease waits
    const { id, apiKey } = await mintKey({ scopes: ["read"] });
    expect((await through(apiKey, { method: "POST" })).status).toBe(403);
    const res = await patch(id, { scopes: ["read", "write"], name: "writer", metadata: { team: "a" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, scopes: ["read", "write"], name: "writer", metadata: { team: "a" } });
    expect((await through(apiKey, { method: "POST" })).status).toBe(200);

    expect((await patch(id, { ip_allowlist: ["198.51.100.0/24"] })).status).toBe(200);
    expect((await problemOf(await through(apiKey))).code).toBe("ip_not_allowed");
    expect(
      (await patch(id, { rate_limits: [{ name: "hour", limit: 10, window_seconds: 3600 }], ip_allowlist: [] })).status,
    ).toBe(200);
    const next = await through(apiKey);
    expect(next.status).toBe(200);
    // The new limit applies to the counts already made under the same name: 1 admitted before, this one now.
    expect(next.headers.get("RateLimit-Policy")).toBe('"hour";q=10;w=3600');
    expect(next.headers.get("RateLimit")).toMatch(/^"hour";r=8;/);
  });

  it("moves expires_at within the maximum lifetime", async () => {
    const { id } = await mintKey();
    const at = new Date(testClock.now() + 10 * DAY_MS).toISOString();
    const res = await patch(id, { expires_at: at });
    expect(((await res.json()) as KeyView).expires_at).toBe(at);
    for (const bad of [
      new Date(testClock.now() - 1000).toISOString(),
      new Date(testClock.now() + 400 * DAY_MS).toISOString(),
      "tomorrow",
    ]) {
      expect((await patch(id, { expires_at: bad })).status).toBe(400);
    }
  });
});

describe("errors", () => {
  it("refuses write scopes on a publishable key, and any change to a revoked key", async () => {
    const pk = await mintKey({ type: "publishable" });
    expect((await patch(pk.id, { scopes: ["write"] })).status).toBe(400);
    const sk = await mintKey();
    await admin(`/keys/${sk.id}/revoke`);
    const res = await patch(sk.id, { name: "again" });
    expect(res.status).toBe(409);
    expect((await problemOf(res)).code).toBe("key_state_conflict");
  });

  it("answers 404 for a key that does not exist", async () => {
    const res = await patch("key_AAAAAAAAAAAAAAAAAAAAAA", { name: "x" });
    expect(res.status).toBe(404);
    expect((await problemOf(res)).code).toBe("key_not_found");
  });
});

describe("security", () => {
  itRefusesWrongCredentials(async () => ({
    method: "PATCH",
    path: `/keys/${(await mintKey()).id}`,
    json: { scopes: ["admin"] },
  }));

  it.each([
    ["id", { id: "key_AAAAAAAAAAAAAAAAAAAAAA" }],
    ["key_hash", { key_hash: "00".repeat(32) }],
    ["status", { status: "active" }],
    ["usage_count", { usage_count: 0 }],
    ["version", { version: 99 }],
    ["lineage_id", { lineage_id: "key_AAAAAAAAAAAAAAAAAAAAAA" }],
    ["owner_id", { owner_id: "someone-else" }],
    ["type", { type: "secret" }],
    ["nothing", {}],
    ["a wrong type", { scopes: "admin" }],
    ["__proto__", JSON.parse('{"__proto__": {"scopes": ["admin"]}}')],
    ["constructor", JSON.parse('{"metadata": {"constructor": {"prototype": {}}}}')],
  ])("refuses a body with %s with 400 and writes nothing", async (_label, body) => {
    const { id } = await mintKey();
    const before = await versionOf(id);
    const res = await patch(id, body);
    expect(res.status).toBe(400);
    expect(((await problemOf(res)) as unknown as { errors: unknown[] }).errors.length).toBeGreaterThan(0);
    expect(await versionOf(id)).toBe(before);
  });

  it("a change to an expired key's other settings leaves it expired and refused", async () => {
    const { id, apiKey } = await mintKey();
    await expire(id);
    expect((await patch(id, { name: "renamed after expiry" })).status).toBe(200);
    expect(await getKey(id)).toMatchObject({ name: "renamed after expiry", status: "expired" });
    expect((await problemOf(await through(apiKey))).code).toBe("key_expired");
  });
});
