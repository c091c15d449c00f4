/** GET /admin/v1/leaks (src/operations/list-leak-events.ts): leak events newest first, paged, scoped, with the time to revocation. */
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/keys/hash";
import { generateKey } from "../../src/keys/format";
import type { ListLeakEventsResult } from "../../src/operations/list-leak-events";
import { admin, mintKey, problemOf } from "../helpers";
import { itRefusesWrongCredentials } from "./helpers";

const list = async (query = "", headers: Record<string, string> = {}) => {
  const response = await admin(`/leaks${query}`, { method: "GET", headers });
  return { status: response.status, body: (await response.json()) as ListLeakEventsResult };
};

const report = async (findings: { key_hash: string; location: string }[], revoke: boolean) => {
  const response = await admin("/leaks/scanner", { json: { findings, revoke } });
  expect(response.status).toBe(200);
};

describe("happy path", () => {
  it("lists events newest first with the consumer and the time to revocation, and pages through them", async () => {
    const revoked = await mintKey({ owner_id: "leaky-co" });
    const kept = await mintKey({ owner_id: "other-co" });
    await report([{ key_hash: await sha256Hex(revoked.apiKey), location: "src/a.ts:1" }], true);
    await report([{ key_hash: await sha256Hex(kept.apiKey), location: "src/b.ts:2" }], false);
    await report([{ key_hash: await sha256Hex(generateKey("", "secret", "live")), location: "src/c.ts:3" }], false);
    const { status, body } = await list();
    expect(status).toBe(200);
    expect(body.events.map((e) => [e.key_id, e.consumer_id, e.outcome])).toEqual([
      [null, null, "no_match"],
      [kept.id, "other-co", "recorded"],
      [revoked.id, "leaky-co", "revoked"],
    ]);
    const [, recorded, done] = body.events;
    expect(recorded!.time_to_revocation_ms).toBeNull();
    expect(done!.revoked_at).not.toBeNull();
    expect(done!.time_to_revocation_ms).toBe(Date.parse(done!.revoked_at!) - Date.parse(done!.reported_at));
    const first = await list("?limit=2");
    expect(first.body.events).toHaveLength(2);
    const second = await list(`?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.events.map((e) => e.key_id)).toEqual([revoked.id]);
    expect(second.body.next_cursor).toBeNull();
    expect((await list(`?key_id=${kept.id}`)).body.events.map((e) => e.location)).toEqual(["src/b.ts:2"]);
  });
});

describe("errors", () => {
  it.each(["?cursor=abc", "?limit=0", "?key_id=nope", "?other=1"])("%s is 400 invalid_request", async (query) => {
    const response = await admin(`/leaks${query}`, { method: "GET" });
    expect(response.status).toBe(400);
    expect((await problemOf(response)).code).toBe("invalid_request");
  });
});

describe("security", () => {
  itRefusesWrongCredentials(async () => ({ method: "GET", path: "/leaks" }));

  it("a consumer-limited credential sees only its consumers' keys' events, never unmatched ones", async () => {
    const mine = await mintKey({ owner_id: "scoped-co" });
    const theirs = await mintKey({ owner_id: "unrelated-co" });
    await report(
      [
        { key_hash: await sha256Hex(mine.apiKey), location: "x:1" },
        { key_hash: await sha256Hex(theirs.apiKey), location: "y:1" },
        { key_hash: await sha256Hex(generateKey("", "secret", "live")), location: "z:1" },
      ],
      false,
    );
    const minted = await admin("/credentials", {
      json: { name: "scoped", operations: ["report:read"], consumers: ["scoped-co"], expires_in_days: 1 },
    });
    const { credential } = (await minted.json()) as { credential: string };
    const { status, body } = await list("", { Authorization: `Bearer ${credential}` });
    expect(status).toBe(200);
    expect(body.events.map((e) => e.key_id)).toEqual([mine.id]);
  });
});
