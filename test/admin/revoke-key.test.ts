/** POST /admin/v1/keys/{id}/revoke (src/operations/revoke-key.ts): revoked everywhere, for good, idempotently. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/keys/hash";
import type { KeyView } from "../../src/keys/key-record";
import { admin, ADMIN_TOKEN, callWith, mintKey, problemOf, revoke } from "../helpers";
import { expire, itRefusesWrongCredentials, through } from "./helpers";

describe("happy path", () => {
  it("is idempotent: a second revocation keeps the first reason and writes no second audit row", async () => {
    const { id } = await mintKey();
    const first = await revoke(id, "leaked in a log");
    expect(first.status).toBe(200);
    const second = await revoke(id, "another reason");
    expect(second.status).toBe(200);
    const key = (await second.json()) as KeyView;
    expect(key.status).toBe("revoked");
    expect(key.revoke_reason).toBe("leaked in a log");
    const audits = await env.DB.prepare(
      "SELECT action FROM audit_log WHERE subject_type = 'key' AND subject_id = ? ORDER BY id",
    )
      .bind(id)
      .all();
    expect(audits.results.map((r) => r.action)).toEqual(["create", "revoke"]);
  });

  it("accepts no body", async () => {
    const { id } = await mintKey();
    const res = await revoke(id);
    expect(res.status).toBe(200);
    expect(((await res.json()) as KeyView).revoke_reason).toBeNull();
  });

  it("is in force when the call returns: the key is refused as key_revoked", async () => {
    const { id, apiKey } = await mintKey();
    expect((await through(apiKey)).status).toBe(200);
    expect((await revoke(id)).status).toBe(200);
    expect((await problemOf(await through(apiKey))).code).toBe("key_revoked");
  });
});

describe("errors", () => {
  it.each(["key_doesnotexist000000000", "key_' OR '1'='1", "nope", "key_AAAAAAAAAAAAAAAAAAAAAA"])(
    "answers 404 for the id %s and changes nothing",
    async (id) => {
      const { id: other } = await mintKey();
      const res = await revoke(encodeURIComponent(id));
      expect(res.status).toBe(404);
      expect((await problemOf(res)).code).toBe("key_not_found");
      const row = await env.DB.prepare("SELECT status FROM api_keys WHERE id = ?")
        .bind(other)
        .first<{ status: string }>();
      expect(row?.status).toBe("active");
    },
  );

  it("refuses a reason that is not a short printable string", async () => {
    const { id } = await mintKey();
    for (const reason of ["", "x".repeat(201), "a\u0000b", 42]) {
      const res = await admin(`/keys/${id}/revoke`, { json: { reason } });
      expect(res.status).toBe(400);
    }
    const row = await env.DB.prepare("SELECT status FROM api_keys WHERE id = ?").bind(id).first<{ status: string }>();
    expect(row?.status).toBe("active");
  });

  it("when the KV purge fails after D1 was written, answers 503, and a retry completes the revocation", async () => {
    const { apiKey, id } = await mintKey();
    const failingKV = new Proxy(env.KEY_CACHE, {
      get(target, prop) {
        if (prop === "delete") return async () => Promise.reject(new Error("KV unavailable"));
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const request = () =>
      new Request(`https://authorizer.test/admin/v1/keys/${id}/revoke`, {
        method: "POST",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      });
    await env.KEY_CACHE.put(`key:v1:${await sha256Hex(apiKey)}`, "stale");
    const failed = await callWith({ KEY_CACHE: failingKV }, new URL(request().url).pathname, {
      method: "POST",
      headers: request().headers,
    });
    expect(failed.status).toBe(503);
    expect(await env.KEY_CACHE.get(`key:v1:${await sha256Hex(apiKey)}`)).toBe("stale");
    const retried = await revoke(id);
    expect(retried.status).toBe(200);
    expect(await env.KEY_CACHE.get(`key:v1:${await sha256Hex(apiKey)}`)).toBeNull();
  });
});

describe("security", () => {
  itRefusesWrongCredentials(async () => ({
    method: "POST",
    path: `/keys/${(await mintKey()).id}/revoke`,
    json: { reason: "x" },
  }));

  it("revokes an expired or disabled key too: revoked is the state that can never be undone", async () => {
    const expired = await mintKey();
    await expire(expired.id);
    const disabled = await mintKey();
    await admin(`/keys/${disabled.id}/disable`);
    for (const { id } of [expired, disabled]) {
      const res = await revoke(id);
      expect(res.status).toBe(200);
      expect(((await res.json()) as KeyView).status).toBe("revoked");
      expect((await admin(`/keys/${id}/enable`)).status).toBe(409);
    }
  });

  it("records the reason as data: a reason shaped like SQL or markup is stored and answered as it was sent", async () => {
    const { id } = await mintKey();
    const reason = "'; UPDATE api_keys SET status = 'active'; -- <script>";
    const key = (await (await revoke(id, reason)).json()) as KeyView;
    expect(key).toMatchObject({ status: "revoked", revoke_reason: reason });
    expect(
      (await env.DB.prepare("SELECT status FROM api_keys WHERE id = ?").bind(id).first<{ status: string }>())!.status,
    ).toBe("revoked");
  });
});
