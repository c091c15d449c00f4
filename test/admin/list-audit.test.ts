/** GET /admin/v1/audit (src/operations/list-audit.ts): every key mutation, newest first, with its actor. */
import { describe, expect, it } from "vitest";
import type { ListAuditResult } from "../../src/operations/list-audit";
import type { RotateKeyResult } from "../../src/operations/rotate-key";
import { admin, mintKey, problemOf } from "../helpers";
import { itRefusesWrongCredentials, patch } from "./helpers";

const audit = async (query: string) =>
  (await (await admin(`/audit?${query}`, { method: "GET" })).json()) as ListAuditResult;

describe("happy path", () => {
  it("records every mutation with actor, action, request id and changed fields, newest first", async () => {
    const { id, apiKey } = await mintKey();
    await patch(id, { name: "renamed" });
    await admin(`/keys/${id}/disable`);
    await admin(`/keys/${id}/enable`);
    const rotated = (await (await admin(`/keys/${id}/rotate`)).json()) as RotateKeyResult;
    await admin(`/keys/${rotated.key.id}/revoke`, { json: { reason: "done" } });

    const { entries } = await audit(`key_id=${id}`);
    expect(entries.map((e) => e.action)).toEqual(["rotate", "enable", "disable", "update", "create"]);
    expect(entries.every((e) => e.actor === "ADMIN_TOKEN" && /^[0-9a-f-]{36}$/.test(e.request_id))).toBe(true);
    expect(entries[3]!.changes).toEqual({ name: "renamed" });
    expect(entries[0]!.changes).toMatchObject({ rotated_to: rotated.key.id });
    const successor = await audit(`key_id=${rotated.key.id}`);
    expect(successor.entries.map((e) => e.action)).toEqual(["revoke", "rotate"]);
    expect(successor.entries[1]!.changes).toEqual({ rotated_from: id });
    expect(JSON.stringify(entries)).not.toContain(apiKey);
  });

  it("pages with a cursor", async () => {
    const { id } = await mintKey();
    for (let i = 0; i < 4; i++) await patch(id, { name: `n${i}` });
    const first = await audit(`key_id=${id}&limit=3`);
    expect(first.entries).toHaveLength(3);
    const second = await audit(`key_id=${id}&limit=3&cursor=${first.next_cursor}`);
    expect(second.entries).toHaveLength(2);
    expect(second.next_cursor).toBeNull();
  });
});

describe("errors", () => {
  it.each(["cursor=abc", "cursor=0", "cursor=-1", "key_id=nope", "limit=101", "limit=1&limit=2", "action=create"])(
    "refuses %s with 400 invalid_request",
    async (query) => {
      const res = await admin(`/audit?${query}`, { method: "GET" });
      expect(res.status).toBe(400);
      expect((await problemOf(res)).code).toBe("invalid_request");
    },
  );
});

describe("security", () => {
  itRefusesWrongCredentials(async () => ({ method: "GET", path: "/audit" }));

  it("holds no secret and no hash, even for a key revoked as leaked", async () => {
    const { id, apiKey } = await mintKey();
    await admin(`/keys/${id}/revoke`, { json: { reason: "leaked" } });
    const text = JSON.stringify(await audit(`key_id=${id}`));
    expect(text).toContain("leaked");
    expect(text).not.toContain(apiKey);
    expect(text).not.toContain("key_hash");
  });
});
