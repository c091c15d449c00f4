/**
 * The security report's "Secret managers" control (src/monitoring/report-secret-managers.ts): keys rotated by
 * the AWS Secrets Manager function, keys written to Vault and scoped credentials acting, from the audit log.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { SecurityReport } from "../../src/monitoring/report-schema";
import { DAY_MS } from "../../src/util/time";
import { testClock } from "../clock";
import { admin, mintKey } from "../helpers";

async function secretManagers() {
  const res = await admin("/report?format=json", { method: "GET" });
  expect(res.status).toBe(200);
  const row = ((await res.json()) as SecurityReport).controls.find((c) => c.control === "Secret managers");
  expect(row).toBeDefined();
  return row!;
}

const rotate = async (id: string, body: Record<string, unknown> = {}) => {
  const res = await admin(`/keys/${id}/rotate`, { json: body });
  expect(res.status).toBe(201);
  return ((await res.json()) as { key: { id: string } }).key.id;
};

/** An audit row written straight to D1: the credentials' actors are another part's, and old rows need a time. */
const auditRow = (at: number, actor: string, action: string, subjectId: string, changes: Record<string, unknown>) =>
  env.DB.prepare(
    "INSERT INTO audit_log (at, actor, action, subject_type, subject_id, consumer_id, request_id, changes) VALUES (?, ?, ?, 'key', ?, NULL, 'req', ?)",
  ).bind(at, actor, action, subjectId, JSON.stringify(changes));

/** A credential row written straight to D1, its dates chosen (its hash a random stand-in). */
const credential = (
  id: string,
  at: { lastUsed: number | null; revoked?: number; expires?: number },
  now = testClock.now(),
) =>
  env.DB.prepare(
    "INSERT INTO admin_credentials (id, name, hash, hint, permissions, consumers, created_by, created_at, expires_at, revoked_at, revoke_reason, last_used_at) VALUES (?, ?, ?, 'abcd', '[\"keys:rotate\"]', NULL, 'ADMIN_TOKEN', ?, ?, ?, NULL, ?)",
  ).bind(
    id,
    id,
    crypto.randomUUID(),
    now - 100 * DAY_MS,
    at.expires ?? now + 30 * DAY_MS,
    at.revoked ?? null,
    at.lastUsed,
  );

describe("the report's Secret managers control", () => {
  it("is Available, with zeros, before either integration minted a key", async () => {
    await rotate((await mintKey()).id); // a rotation without a label is no secret manager's
    expect(await secretManagers()).toMatchObject({
      status: "Available",
      evidence:
        "0 keys rotated by the AWS Secrets Manager function, 0 keys written to Vault, 0 scoped credentials in use, in the last 90 days",
    });
  });

  it("counts the labelled creates and rotations of the last 90 days, and the credentials in use", async () => {
    const now = testClock.now();
    // Vault: two keys created there, and one of them rotated there (its successor is a third key).
    const vaultKey = (await mintKey({ secret_store: "vault" })).id;
    await mintKey({ secret_store: "vault" });
    await rotate(vaultKey, { secret_store: "vault" });
    // AWS: two rotations by the admin token, one by the function's credential.
    for (let i = 0; i < 2; i++) await rotate((await mintKey()).id, { secret_store: "aws-secrets-manager" });
    const aws = { secret_store: "aws-secrets-manager" };
    await env.DB.batch([
      auditRow(now, "credential:cred_aws", "rotate", "key_x", { ...aws, rotated_to: "key_y" }),
      auditRow(now, "credential:cred_aws", "rotate", "key_y", { ...aws, rotated_from: "key_x" }),
      // Credentials: two live and used in the window; one revoked, one expired, one unused, one used long ago.
      credential("cred_aws", { lastUsed: now - DAY_MS }),
      credential("cred_ci", { lastUsed: now }),
      credential("cred_revoked", { lastUsed: now, revoked: now - DAY_MS }),
      credential("cred_expired", { lastUsed: now - 2 * DAY_MS, expires: now - DAY_MS }),
      credential("cred_unused", { lastUsed: null }),
      credential("cred_idle", { lastUsed: now - 91 * DAY_MS }),
      // Outside the 90 days: none of these count.
      auditRow(now - 91 * DAY_MS, "credential:cred_old", "rotate", "key_o", { ...aws, rotated_to: "key_p" }),
      auditRow(now - 91 * DAY_MS, "ADMIN_TOKEN", "create", "key_q", { secret_store: "vault" }),
    ]);
    expect(await secretManagers()).toMatchObject({
      status: "Active",
      evidence:
        "3 keys rotated by the AWS Secrets Manager function (by ADMIN_TOKEN, credential:cred_aws), 3 keys written to Vault, 2 scoped credentials in use, in the last 90 days",
    });
    const md = await (await admin("/report", { method: "GET" })).text();
    expect(md).toMatch(/\| Secret managers \| [^\n]*HashiCorp Vault[^\n]* \| Active \| 3 keys rotated /);
  });
});
