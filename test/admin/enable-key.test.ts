/** POST /admin/v1/keys/{id}/enable (src/operations/set-key-status.ts): a disabled key works again. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { KeyView } from "../../src/keys/key-record";
import { admin, mintKey, problemOf } from "../helpers";
import { expire, itRefusesWrongCredentials, through } from "./helpers";

describe("happy path", () => {
  it("enables a disabled key, and is idempotent on an active one (one audit row per change)", async () => {
    const { id, apiKey } = await mintKey();
    await admin(`/keys/${id}/disable`);
    const res = await admin(`/keys/${id}/enable`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as KeyView).status).toBe("active");
    expect((await through(apiKey)).status).toBe(200);
    expect((await admin(`/keys/${id}/enable`)).status).toBe(200);
    const actions = await env.DB.prepare(
      "SELECT action FROM audit_log WHERE subject_type = 'key' AND subject_id = ? ORDER BY id",
    )
      .bind(id)
      .all();
    expect(actions.results.map((r) => r.action)).toEqual(["create", "disable", "enable"]);
  });
});

describe("errors", () => {
  it("answers 404 for a key that does not exist", async () => {
    const res = await admin("/keys/key_AAAAAAAAAAAAAAAAAAAAAA/enable");
    expect(res.status).toBe(404);
    expect((await problemOf(res)).code).toBe("key_not_found");
  });
});

describe("security", () => {
  itRefusesWrongCredentials(async () => {
    const { id } = await mintKey();
    await admin(`/keys/${id}/disable`);
    return { method: "POST", path: `/keys/${id}/enable` };
  });

  it("never brings back a revoked key (409), nor makes an expired one usable", async () => {
    const revoked = await mintKey();
    await admin(`/keys/${revoked.id}/revoke`);
    const res = await admin(`/keys/${revoked.id}/enable`);
    expect(res.status).toBe(409);
    expect((await problemOf(res)).code).toBe("key_state_conflict");
    const expired = await mintKey();
    await admin(`/keys/${expired.id}/disable`);
    await expire(expired.id);
    expect(((await (await admin(`/keys/${expired.id}/enable`)).json()) as KeyView).status).toBe("expired");
    expect((await problemOf(await through(expired.apiKey))).code).toBe("key_expired");
  });
});
