/**
 * GET /admin/v1/credentials, GET /credentials/{id} and POST /credentials/{id}/revoke: a revoked or expired
 * credential is refused on its very next request (no cache to wait out); a narrow principal sees only
 * credentials within its consumers.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DAY_MS } from "../../src/util/time";
import { testClock } from "../clock";
import { admin, problemOf } from "../helpers";
import { mintCredential, withCredential } from "./credential-helpers";
import { itRefusesWrongCredentials } from "./helpers";
import { capturingLogs } from "../logs";
import { mintKey } from "../helpers";

describe("happy path", () => {
  it("revokes a credential, in force on its next request, with an audit row", async () => {
    const cred = await mintCredential({ operations: ["keys:read"] });
    expect((await withCredential(cred.secret, "/keys")).status).toBe(200);
    const res = await admin(`/credentials/${cred.id}/revoke`, { json: { reason: "rotated out" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: cred.id, status: "revoked", revoke_reason: "rotated out" });
    const refused = await withCredential(cred.secret, "/keys");
    expect(refused.status).toBe(401);
    expect((await problemOf(refused)).code).toBe("admin_unauthorized");
    const audit = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM audit_log WHERE subject_type = 'credential' AND subject_id = ? AND action = 'revoke'",
    )
      .bind(cred.id)
      .first<{ n: number }>();
    expect(audit!.n).toBe(1);
    // Revoking again changes nothing and writes no second row.
    expect((await admin(`/credentials/${cred.id}/revoke`)).status).toBe(200);
    const again = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM audit_log WHERE subject_type = 'credential' AND subject_id = ? AND action = 'revoke'",
    )
      .bind(cred.id)
      .first<{ n: number }>();
    expect(again!.n).toBe(1);
  });

  it("refuses a credential the moment it expires, on the clock", async () => {
    const cred = await mintCredential({ operations: ["keys:read"], expires_in_days: 1 });
    testClock.advance(DAY_MS - 1);
    expect((await withCredential(cred.secret, "/keys")).status).toBe(200);
    testClock.advance(1);
    expect((await withCredential(cred.secret, "/keys")).status).toBe(401);
    const view = (await (await admin(`/credentials/${cred.id}`, { method: "GET" })).json()) as { status: string };
    expect(view.status).toBe("expired");
  });

  it("lists credentials newest first; a consumer-limited principal sees only those within its consumers", async () => {
    const a = await mintCredential({ operations: ["keys:read"], consumers: ["a"] });
    testClock.advance(1);
    const wide = await mintCredential({ operations: ["keys:read"] });
    testClock.advance(1);
    const manager = await mintCredential({ operations: ["credentials:write", "keys:read"], consumers: ["a", "b"] });
    const all = (await (await admin("/credentials", { method: "GET" })).json()) as { credentials: { id: string }[] };
    const ours = new Set([manager.id, wide.id, a.id]);
    expect(all.credentials.map((c) => c.id).filter((id) => ours.has(id))).toEqual([manager.id, wide.id, a.id]);
    const narrow = (await (await withCredential(manager.secret, "/credentials")).json()) as {
      credentials: { id: string }[];
    };
    expect(narrow.credentials.map((c) => c.id)).toEqual([manager.id, a.id]);
    const hidden = await withCredential(manager.secret, `/credentials/${wide.id}`);
    expect(hidden.status).toBe(404);
    expect((await problemOf(hidden)).code).toBe("credential_not_found");
    const revokeHidden = await withCredential(manager.secret, `/credentials/${wide.id}/revoke`, { json: {} });
    expect(revokeHidden.status).toBe(404);
    expect((await withCredential(wide.secret, "/keys")).status).toBe(200);
  });
});

describe("every use traced to the credential", () => {
  it("logs a credential's reads and refusals with its name and the route's pattern (never the ids)", async () => {
    const cred = await mintCredential({ operations: ["keys:read"] });
    const { id } = await mintKey();
    const read = await capturingLogs(() => withCredential(cred.secret, `/keys/${id}`));
    expect(read.result.status).toBe(200);
    expect(read.logs).toContainEqual(
      expect.objectContaining({ msg: "admin.read", actor: `credential:${cred.id}`, route: "/admin/v1/keys/:id" }),
    );
    const refused = await capturingLogs(() => withCredential(cred.secret, `/keys/${id}/revoke`, { json: {} }));
    expect(refused.result.status).toBe(403);
    expect(refused.logs).toContainEqual(
      expect.objectContaining({ code: "forbidden_operation", actor: `credential:${cred.id}` }),
    );
  });
});

describe("errors", () => {
  it.each(["cred_doesnotexist0000000000", "not-an-id"])("answers 404 credential_not_found for %s", async (id) => {
    const res = await admin(`/credentials/${id}`, { method: "GET" });
    expect(res.status).toBe(404);
    expect((await problemOf(res)).code).toBe("credential_not_found");
  });
});

describe("security", () => {
  itRefusesWrongCredentials(async () => ({
    method: "POST",
    path: `/credentials/${(await mintCredential({ operations: ["keys:read"] })).id}/revoke`,
  }));
});
