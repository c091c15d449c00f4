/** POST /admin/v1/credentials: minting scoped admin credentials, never broader than their minter. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseCredential } from "../../src/keys/format";
import { sha256Hex } from "../../src/keys/hash";
import { DAY_MS } from "../../src/util/time";
import { testClock } from "../clock";
import { d1Snapshot } from "../faults/wrappers";
import { admin, mintKey, problemOf } from "../helpers";
import { mintCredential, withCredential } from "./credential-helpers";
import { itRefusesWrongCredentials } from "./helpers";

const credentialRows = async () =>
  (await env.DB.prepare("SELECT * FROM admin_credentials ORDER BY id").all<Record<string, unknown>>()).results;
/** Which credentials exist (not when each was last used, which every call with one moves). */
const credentialIds = async () => (await credentialRows()).map((r) => r.id);

describe("happy path", () => {
  it("mints a credential shown once, stored as its SHA-256 only, with an audit row that holds no secret", async () => {
    const res = await admin("/credentials", {
      json: {
        name: "rotation lambda",
        operations: ["keys:rotate", "keys:check"],
        consumers: ["acme"],
        expires_in_days: 90,
      },
    });
    expect(res.status).toBe(201);
    const { credential, details } = (await res.json()) as { credential: string; details: Record<string, unknown> };
    expect(parseCredential(credential, "")).not.toBeNull();
    expect(credential.startsWith("ak_")).toBe(true);
    expect(details).toMatchObject({
      name: "rotation lambda",
      status: "active",
      operations: ["keys:rotate", "keys:check"],
      consumers: ["acme"],
      created_by: "ADMIN_TOKEN",
      hint: credential.slice(-4),
      expires_at: new Date(testClock.now() + 90 * DAY_MS).toISOString(),
    });
    const row = (await credentialRows()).find((r) => r.id === details.id);
    expect(row!.hash).toBe(await sha256Hex(credential));
    expect(Object.values(row!)).not.toContain(credential);
    const audit = await env.DB.prepare(
      "SELECT actor, action, subject_type, subject_id, changes FROM audit_log WHERE subject_type = 'credential'",
    ).first<Record<string, string>>();
    expect(audit).toMatchObject({ actor: "ADMIN_TOKEN", action: "create", subject_id: details.id });
    expect(audit!.changes).not.toContain(credential);
    expect(audit!.changes).not.toContain(row!.hash as string);
  });

  it("acts as credential:<id> in the audit rows of what it changes, and records its last use", async () => {
    const cred = await mintCredential({ operations: ["keys:create"] });
    const res = await withCredential(cred.secret, "/keys", { json: { owner_id: "owner-1" } });
    expect(res.status).toBe(201);
    const { key } = (await res.json()) as { key: { id: string } };
    const row = await env.DB.prepare("SELECT actor FROM audit_log WHERE subject_type = 'key' AND subject_id = ?")
      .bind(key.id)
      .first<{ actor: string }>();
    expect(row!.actor).toBe(`credential:${cred.id}`);
    const used = await env.DB.prepare("SELECT last_used_at FROM admin_credentials WHERE id = ?")
      .bind(cred.id)
      .first<{ last_used_at: number }>();
    expect(used!.last_used_at).toBe(testClock.now());
  });

  it("lets a credential holding credentials:write mint one within its own operations and consumers", async () => {
    const parent = await mintCredential({
      operations: ["credentials:write", "keys:read", "keys:create"],
      consumers: ["a", "b"],
    });
    const child = await mintCredential({ operations: ["keys:read"], consumers: ["a"] }, parent.secret);
    expect((await withCredential(child.secret, "/keys")).status).toBe(200);
    const audit = await env.DB.prepare(
      "SELECT actor FROM audit_log WHERE subject_type = 'credential' AND subject_id = ?",
    )
      .bind(child.id)
      .first<{ actor: string }>();
    expect(audit!.actor).toBe(`credential:${parent.id}`);
  });

  it("never lets a minted credential outlive the credential that minted it", async () => {
    const parent = await mintCredential({ operations: ["credentials:write", "keys:read"], expires_in_days: 2 });
    const res = await withCredential(parent.secret, "/credentials", {
      json: { name: "child", operations: ["keys:read"], expires_in_days: 300 },
    });
    expect(res.status).toBe(201);
    const { details } = (await res.json()) as { details: { expires_at: string } };
    expect(details.expires_at).toBe(new Date(testClock.now() + 2 * DAY_MS).toISOString());
  });
});

describe("errors", () => {
  it.each([
    ["an unknown operation", { name: "x", operations: ["keys:everything"], expires_in_days: 1 }],
    ["no operations", { name: "x", operations: [], expires_in_days: 1 }],
    ["an operation twice", { name: "x", operations: ["keys:read", "keys:read"], expires_in_days: 1 }],
    ["no expiry", { name: "x", operations: ["keys:read"] }],
    ["an expiry over a year", { name: "x", operations: ["keys:read"], expires_in_days: 366 }],
    ["no name", { operations: ["keys:read"], expires_in_days: 1 }],
    ["an empty consumer list", { name: "x", operations: ["keys:read"], consumers: [], expires_in_days: 1 }],
    [
      "a consumer id that cannot exist",
      { name: "x", operations: ["keys:read"], consumers: [".."], expires_in_days: 1 },
    ],
    ["an unknown field", { name: "x", operations: ["keys:read"], expires_in_days: 1, admin: true }],
  ])("refuses %s with 400 and writes nothing", async (_label, json) => {
    const before = await d1Snapshot();
    const ids = await credentialIds();
    const res = await admin("/credentials", { json });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe("invalid_request");
    expect(await credentialIds()).toEqual(ids);
    expect(await d1Snapshot()).toEqual(before);
  });
});

describe("security", () => {
  itRefusesWrongCredentials(async () => ({
    method: "POST",
    path: "/credentials",
    json: { name: "x", operations: ["keys:read"], expires_in_days: 1 },
  }));

  it.each([
    ["an operation the minter lacks", { operations: ["keys:read", "keys:revoke"], consumers: ["a"] }],
    ["no consumer limit from a consumer-limited minter", { operations: ["keys:read"] }],
    ["a consumer outside the minter's", { operations: ["keys:read"], consumers: ["a", "c"] }],
  ])("refuses to mint one with %s (403) and writes nothing", async (_label, body) => {
    const parent = await mintCredential({ operations: ["credentials:write", "keys:read"], consumers: ["a", "b"] });
    const before = await credentialIds();
    const res = await withCredential(parent.secret, "/credentials", {
      json: { name: "wider", expires_in_days: 1, ...body },
    });
    expect(res.status).toBe(403);
    expect((await problemOf(res)).code).toBe("forbidden_operation");
    expect(await credentialIds()).toEqual(before);
  });

  it("refuses a credential without credentials:write with 403", async () => {
    const cred = await mintCredential({ operations: ["keys:read"] });
    const res = await withCredential(cred.secret, "/credentials", {
      json: { name: "x", operations: ["keys:read"], expires_in_days: 1 },
    });
    expect(res.status).toBe(403);
    expect((await problemOf(res)).code).toBe("forbidden_operation");
  });

  it("does not take an API key, or a credential-shaped string with a bad checksum, as a credential", async () => {
    const { apiKey } = await mintKey();
    const cred = await mintCredential({ operations: ["keys:read"] });
    const forged = `${cred.secret.slice(0, -1)}${cred.secret.endsWith("0") ? "1" : "0"}`;
    for (const secret of [apiKey, forged]) {
      const res = await withCredential(secret, "/keys");
      expect(res.status).toBe(401);
      expect((await problemOf(res)).code).toBe("admin_unauthorized");
    }
  });
});
