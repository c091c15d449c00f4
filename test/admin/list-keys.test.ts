/** GET /admin/v1/keys (src/operations/list-keys.ts): keys newest first, filtered, a page at a time. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ListKeysResult } from "../../src/operations/list-keys";
import { admin, mintKey, problemOf } from "../helpers";
import { getKey, itRefusesWrongCredentials } from "./helpers";
import { testClock } from "../clock";

describe("happy path", () => {
  it("filters by owner, status and environment, and pages through with cursors", async () => {
    const owner = `owner-${crypto.randomUUID().slice(0, 8)}`;
    const minted = [];
    for (let i = 0; i < 5; i++) minted.push(await mintKey({ owner_id: owner, environment: i === 4 ? "test" : "live" }));
    await admin(`/keys/${minted[0]!.id}/revoke`);
    await admin(`/keys/${minted[1]!.id}/disable`);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await admin(`/keys?owner_id=${owner}&limit=2${cursor ? `&cursor=${cursor}` : ""}`, { method: "GET" });
      expect(res.status).toBe(200);
      const page = (await res.json()) as ListKeysResult;
      expect(page.keys.length).toBeLessThanOrEqual(2);
      seen.push(...page.keys.map((k) => k.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen.sort()).toEqual(minted.map((m) => m.id).sort());

    const list = async (query: string) =>
      ((await (await admin(`/keys?owner_id=${owner}&${query}`, { method: "GET" })).json()) as ListKeysResult).keys.map(
        (k) => k.id,
      );
    expect(await list("status=revoked")).toEqual([minted[0]!.id]);
    expect(await list("status=disabled")).toEqual([minted[1]!.id]);
    expect((await list("status=active")).sort()).toEqual([minted[2]!.id, minted[3]!.id, minted[4]!.id].sort());
    expect(await list("environment=test")).toEqual([minted[4]!.id]);
  });

  it("counts a key past its expiry or grace end as expired, not active", async () => {
    const owner = `owner-${crypto.randomUUID().slice(0, 8)}`;
    const a = await mintKey({ owner_id: owner });
    const b = await mintKey({ owner_id: owner });
    await env.DB.prepare("UPDATE api_keys SET grace_until = ? WHERE id = ?")
      .bind(testClock.now() - 1, a.id)
      .run();
    await env.DB.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?")
      .bind(testClock.now() - 1, b.id)
      .run();
    const res = await admin(`/keys?owner_id=${owner}&status=expired`, { method: "GET" });
    const ids = ((await res.json()) as ListKeysResult).keys.map((k) => k.id);
    expect(ids.sort()).toEqual([a.id, b.id].sort());
    expect((await getKey(a.id)).status).toBe("expired");
  });

  it("answers an empty page, with no cursor, for an owner without keys", async () => {
    const res = await admin(`/keys?owner_id=nobody-${crypto.randomUUID().slice(0, 8)}`, { method: "GET" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ keys: [], next_cursor: null });
  });
});

describe("errors", () => {
  it.each([
    "limit=101",
    "limit=0",
    "limit=abc",
    "status=deleted",
    "environment=prod",
    "sort=created_at",
    "owner_id=x'%20OR%20'1'='1",
    "cursor=not-a-cursor",
    "cursor=" + btoa("1:key_'; DROP TABLE api_keys;--"),
  ])("refuses %s with 400 and a field-by-field problem", async (query) => {
    const res = await admin(`/keys?${query}`, { method: "GET" });
    expect(res.status).toBe(400);
    const body = (await problemOf(res)) as unknown as { code: string; errors: unknown[] };
    expect(body.code).toBe("invalid_request");
    expect(body.errors.length).toBeGreaterThan(0);
    expect(JSON.stringify(body)).not.toMatch(/SELECT|DROP|sqlite/i);
  });
});

describe("security", () => {
  itRefusesWrongCredentials(async () => ({ method: "GET", path: "/keys" }));

  it("lists no secret, and no hash, of any key", async () => {
    const owner = `owner-${crypto.randomUUID().slice(0, 8)}`;
    const { apiKey } = await mintKey({ owner_id: owner });
    const text = await (await admin(`/keys?owner_id=${owner}`, { method: "GET" })).text();
    expect(text).not.toContain(apiKey);
    expect(text).not.toContain("key_hash");
  });
});
