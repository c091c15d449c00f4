/**
 * SQL metacharacters in every admin filter, cursor and id. Every statement binds its values, so each is
 * either refused by validation (400, or 404 for an id that cannot exist) or matched literally; none returns
 * more than it should, leaks SQL, or changes anything in D1.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { CreateKeyResult } from "../../src/operations/create-key";
import type { ListKeysResult } from "../../src/operations/list-keys";
import { admin, mintKey } from "../helpers";
import { d1Snapshot } from "../faults/wrappers";
import { expectRefusal } from "./expect";

const INJECTIONS = [
  "' OR '1'='1",
  "' OR 1=1 --",
  "x'; DROP TABLE api_keys; --",
  '" OR ""="',
  "1; DELETE FROM audit_log",
  "') UNION SELECT key_hash, 1, 1 FROM api_keys --",
  "%' OR owner_id LIKE '%",
  "\\' OR 1=1 /*",
  "x\u0000' OR 1=1",
  "?1",
  ":now",
  "NULL",
];

let id: string;
beforeAll(async () => {
  id = (await mintKey({ owner_id: "sql-owner" })).id;
  await mintKey({ owner_id: "someone-else" });
});

const keyCount = async () => (await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys").first<{ n: number }>())!.n;

describe("list filters", () => {
  it.each(["owner_id", "status", "environment", "limit", "cursor"])(
    "GET /keys?%s=<injection> is 400 (or a literal match of nothing), and changes nothing",
    async (name) => {
      const before = await d1Snapshot();
      for (const value of INJECTIONS) {
        const res = await admin(`/keys?${name}=${encodeURIComponent(value)}`, { method: "GET" });
        if (res.status === 200) {
          // A value the filter's grammar allows ("NULL", ":now" are possible owner ids) is matched literally: no key has it.
          expect(name).toBe("owner_id");
          expect(["NULL", ":now"]).toContain(value);
          expect(((await res.json()) as ListKeysResult).keys).toEqual([]);
          continue;
        }
        await expectRefusal(res, 400, "invalid_request");
        const body = (await res.json()) as { errors: { path: string }[] };
        expect(body.errors.map((e) => e.path)).toEqual([name]);
      }
      expect(await d1Snapshot()).toBe(before);
    },
  );

  it.each(["key_id", "limit", "cursor"])("GET /audit?%s=<injection> is 400 and changes nothing", async (name) => {
    const before = await d1Snapshot();
    for (const value of INJECTIONS) {
      const res = await admin(`/audit?${name}=${encodeURIComponent(value)}`, { method: "GET" });
      await expectRefusal(res, 400, "invalid_request");
    }
    expect(await d1Snapshot()).toBe(before);
  });

  it("a cursor that decodes to SQL is refused, not run", async () => {
    const b64 = (s: string) => btoa(s).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
    for (const inner of [
      "1' OR '1'='1:key_0000000000000000000000",
      "1:key_000000000000000000000' --",
      "99999999999999999999:key_0000000000000000000000",
    ]) {
      await expectRefusal(await admin(`/keys?cursor=${b64(inner)}`, { method: "GET" }), 400, "invalid_request");
    }
  });

  it("unknown filter names, including SQL ones, are 400 (no filter is silently ignored)", async () => {
    for (const name of ["order_by", "sort", "where", "owner_id'--", "1=1"]) {
      await expectRefusal(
        await admin(`/keys?${encodeURIComponent(name)}=x`, { method: "GET" }),
        400,
        "invalid_request",
      );
    }
  });

  it("a filter given twice is 400, whichever copy holds the injection (no reader-dependent choice)", async () => {
    for (const query of [
      "owner_id=sql-owner&owner_id=' OR 1=1 --",
      "status=active&status=revoked",
      "key_id=x&limit=1&limit=100",
    ]) {
      const path = query.startsWith("key_id") ? "/audit" : "/keys";
      const res = await admin(`${path}?${query.replace("key_id=x&", "")}`, { method: "GET" });
      await expectRefusal(res, 400, "invalid_request");
    }
  });

  it("control: a filter that is allowed narrows to exactly the matching keys", async () => {
    const res = await admin("/keys?owner_id=sql-owner", { method: "GET" });
    const body = (await res.json()) as ListKeysResult;
    expect(body.keys.map((k) => k.id)).toEqual([id]);
  });
});

describe("ids in the path", () => {
  const routes: [string, string][] = [
    ["GET", ""],
    ["PATCH", ""],
    ["POST", "/revoke"],
    ["POST", "/disable"],
    ["POST", "/enable"],
    ["POST", "/rotate"],
  ];
  it.each(routes)("%s /keys/<injection>%s is 404 key_not_found, and nothing changes", async (method, suffix) => {
    const before = await d1Snapshot();
    const count = await keyCount();
    for (const value of [
      ...INJECTIONS,
      `${id}' OR '1'='1`,
      `${id}--`,
      `${id.slice(0, -1)}%`,
      `${id.slice(0, -1)}_`,
      id.toUpperCase(),
    ]) {
      const res = await admin(`/keys/${encodeURIComponent(value)}${suffix}`, {
        method,
        ...(method === "PATCH" ? { json: { name: "pwned" } } : {}),
      });
      // A path such as "/keys/1; DELETE…/revoke" may not even route; either way it is refused and changes nothing.
      expect([404, 405]).toContain(res.status);
      const text = await res.text();
      expect(text).not.toMatch(/SELECT|sqlite|D1_|api_keys/);
      expect(text).not.toContain("pwned");
    }
    expect(await keyCount()).toBe(count);
    expect(await d1Snapshot()).toBe(before);
  });
});

describe("values stored literally", () => {
  it("SQL in a name, a reason, metadata and scopes is stored and returned as text, and lists still filter exactly", async () => {
    const sql = "x'); DELETE FROM api_keys; --";
    const before = await keyCount();
    const res = await admin("/keys", { json: { owner_id: "literal-owner", name: sql, metadata: { [sql]: sql } } });
    expect(res.status).toBe(201);
    const { key } = (await res.json()) as CreateKeyResult;
    expect(key.name).toBe(sql);
    expect(key.metadata).toEqual({ [sql]: sql });
    expect((await admin(`/keys/${key.id}/revoke`, { json: { reason: sql } })).status).toBe(200);
    const row = await env.DB.prepare("SELECT name, revoke_reason FROM api_keys WHERE id = ?")
      .bind(key.id)
      .first<{ name: string; revoke_reason: string }>();
    expect(row).toEqual({ name: sql, revoke_reason: sql });
    expect(await keyCount()).toBe(before + 1);
    const listed = (await (await admin("/keys?owner_id=literal-owner", { method: "GET" })).json()) as ListKeysResult;
    expect(listed.keys).toHaveLength(1);
  });
});
