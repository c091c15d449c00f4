/**
 * The admin token (src/admin/auth.ts), the credential every operation is behind (Access JWTs: access.test.ts):
 * ADMIN_TOKEN, ADMIN_TOKEN_NEXT while it is rotated, and what never opens the admin API.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CONFIG_RETRY_AFTER_S } from "../../src/http/problem";
import type { CreateKeyResult } from "../../src/operations/create-key";
import type { ListAuditResult } from "../../src/operations/list-audit";
import { admin, ADMIN_TOKEN, call, callWith, mintKey, problemOf } from "../helpers";
import { countKeys } from "./helpers";

describe("happy path", () => {
  it("names ADMIN_TOKEN_NEXT as the actor when that token was used", async () => {
    const next = "next-admin-token-abcdefghijklmnop";
    const res = await callWith({ ADMIN_TOKEN_NEXT: next }, "/admin/v1/keys", {
      method: "POST",
      headers: { Authorization: `Bearer ${next}`, "Content-Type": "application/json" },
      body: JSON.stringify({ owner_id: "o" }),
    });
    expect(res.status).toBe(201);
    const { key } = (await res.json()) as CreateKeyResult;
    const audit = (await (await admin(`/audit?key_id=${key.id}`, { method: "GET" })).json()) as ListAuditResult;
    expect(audit.entries[0]!.actor).toBe("ADMIN_TOKEN_NEXT");
    // Without ADMIN_TOKEN_NEXT configured, that token opens nothing.
    const refused = await callWith({}, "/admin/v1/keys", {
      method: "GET",
      headers: { Authorization: `Bearer ${next}` },
    });
    expect(refused.status).toBe(401);
    expect(
      (
        await callWith({ ADMIN_TOKEN_NEXT: next }, "/admin/v1/keys", {
          method: "GET",
          headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
        })
      ).status,
    ).toBe(200);
  });
});

describe("errors", () => {
  it("answers 503 when no ADMIN_TOKEN is configured, whatever is presented", async () => {
    for (const token of [undefined, ""]) {
      const res = await callWith({ ADMIN_TOKEN: token }, "/admin/v1/keys", {
        method: "POST",
        headers: { Authorization: "Bearer ", "Content-Type": "application/json" },
        body: JSON.stringify({ owner_id: "x" }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get("Retry-After")).toBe(String(CONFIG_RETRY_AFTER_S)); // a configuration failure: one Retry-After for all
      expect((await problemOf(res)).code).toBe("authorizer_unavailable");
    }
  });

  it("unknown admin routes are 404 behind the token, 401 without it", async () => {
    expect((await admin("/nothing-here", { method: "GET" })).status).toBe(404);
    expect((await admin("/nothing-here", { method: "GET", headers: { Authorization: "Bearer nope" } })).status).toBe(
      401,
    );
  });
});

describe("security", () => {
  it.each([
    ["an empty Authorization header", { Authorization: "" }],
    ["a wrong token", { Authorization: "Bearer not-the-token" }],
    ["the token with another scheme", { Authorization: `Basic ${ADMIN_TOKEN}` }],
    ["a prefix of the token", { Authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` }],
  ])("refuses %s with 401 and changes nothing", async (_label, headers) => {
    const before = await countKeys();
    const res = await admin("/keys", { headers, json: { owner_id: "x" } });
    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe("admin_unauthorized");
    expect(await countKeys()).toBe(before);
  });

  it("refuses a request with no credential at all", async () => {
    const res = await call("/admin/v1/keys", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"owner_id":"x"}',
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="admin"');
  });

  it("refuses an API key, even one with the admin scope", async () => {
    const { apiKey } = await mintKey({ scopes: ["admin"] });
    const attempts: Record<string, string>[] = [
      { Authorization: `Bearer ${apiKey}` },
      { "X-API-Key": apiKey, Authorization: "" },
    ];
    for (const headers of attempts) {
      const res = await admin("/keys", { headers, json: { owner_id: "x" } });
      expect(res.status).toBe(401);
    }
  });

  it("refuses the token in the query string", async () => {
    const res = await admin(`/keys?token=${ADMIN_TOKEN}`, { json: { owner_id: "x" } });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toContain("key_in_query");
    expect(text).not.toContain(ADMIN_TOKEN);
  });

  it("records the admin credential's name as the actor, never the token itself", async () => {
    const { id } = await mintKey();
    const row = await env.DB.prepare("SELECT actor FROM audit_log WHERE subject_type = 'key' AND subject_id = ?")
      .bind(id)
      .first<{ actor: string }>();
    expect(row?.actor).toBe("ADMIN_TOKEN");
    const all = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE actor LIKE ? OR changes LIKE ?")
      .bind(`%${ADMIN_TOKEN}%`, `%${ADMIN_TOKEN}%`)
      .first<{ n: number }>();
    expect(all?.n).toBe(0);
  });
});
