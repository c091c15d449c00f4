/**
 * A leaked scoped admin credential, found by any source (gitleaks, truffleHog, GitHub secret scanning, the
 * built-in scanner, truffleHog's verification call, the gateway seeing it in a URL) is handled like a key:
 * revoked (at once: the next admin call with it is 401), recorded as a leak event, audited under the source,
 * and its creator told without the secret.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { generateCredential, generateKey } from "../../src/keys/format";
import { sha256Hex } from "../../src/keys/hash";
import type { IngestSummary } from "../../src/leaks/ingest";
import { ADMIN_TOKEN, admin, call, callWith, originSaw, problemOf } from "../helpers";
import { mintCredential, type MintedCredential } from "../admin/credential-helpers";
import { alertBody, newSigningKey, publishKeys, signBody, type SigningKey } from "../webhooks/github-helpers";

const GITHUB_KEYS_URL = "https://api.github.test/credential-leaks/meta/public_keys/secret_scanning";
const VERIFY_TOKEN = "trufflehog-verify-token-0123456789";
let signer: SigningKey;

beforeAll(async () => {
  signer = await newSigningKey("kid-credential-leaks");
  await publishKeys(GITHUB_KEYS_URL, [signer]);
});

interface Minted extends MintedCredential {
  /** Its last four characters, as the admin API shows it. */
  hint: string;
}

/** Mints a credential named "ci-rotation", as `by` (the admin token unless a credential's secret is given). */
async function mintLeakable(by?: string): Promise<Minted> {
  const minted = await mintCredential(
    { name: "ci-rotation", operations: ["keys:read", "keys:rotate", "credentials:write"] },
    by,
  );
  return { ...minted, hint: minted.secret.slice(-4) };
}

/** Whether the credential still opens the admin API. */
const adminStatus = async (secret: string) =>
  (await admin("/keys", { method: "GET", headers: { Authorization: `Bearer ${secret}` } })).status;

const newHook = () => {
  const url = `https://hooks.test/${crypto.randomUUID()}`;
  return { url, env: { NOTIFY_WEBHOOK_URL: url, NOTIFY_WEBHOOK_SECRET: "whsec-test" } };
};

async function deliveriesTo(url: string): Promise<string[]> {
  const all = (await (await env.ORIGIN!.fetch("https://hooks.test/__deliveries")).json()) as {
    url: string;
    body: string;
  }[];
  return all.filter((d) => d.url === url).map((d) => d.body);
}

/** An admin ingest route, with the owner webhook configured. */
const ingest = (hook: Partial<Cloudflare.Env>, path: string, body: string, contentType = "application/json") =>
  callWith(hook, `/admin/v1/leaks/${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": contentType },
    body,
  });

const gitleaksFinding = (secret: string, file = "ci/.env") => ({
  RuleID: "edge-key-authorizer-admin-credential",
  Secret: secret,
  File: file,
  StartLine: 3,
  Commit: "0123456789abcdef0123456789abcdef01234567",
  Fingerprint: `0123456789abcdef:${file}:edge-key-authorizer-admin-credential:3`,
});

const trufflehogLine = (raw: string, file = "deploy.sh") =>
  JSON.stringify({
    SourceMetadata: {
      Data: { Git: { commit: "fbc14303ffbf8fb1", file, repository: "https://github.com/o/r", line: 9 } },
    },
    DetectorName: "EdgeKeyAuthorizer_ak",
    Raw: raw,
  });

const credentialRow = (id: string) =>
  env.DB.prepare("SELECT revoked_at, revoke_reason FROM admin_credentials WHERE id = ?")
    .bind(id)
    .first<{ revoked_at: number | null; revoke_reason: string | null }>();

const eventsOf = async (id: string) =>
  (
    await env.DB.prepare(
      "SELECT key_id, source, outcome, location, revoked_at, fingerprint FROM leak_events WHERE credential_id = ? ORDER BY id",
    )
      .bind(id)
      .all<{
        key_id: string | null;
        source: string;
        outcome: string;
        location: string | null;
        revoked_at: number | null;
        fingerprint: string;
      }>()
  ).results;

const revokeAudits = async (id: string) =>
  (
    await env.DB.prepare(
      "SELECT actor, changes FROM audit_log WHERE subject_type = 'credential' AND subject_id = ? AND action = 'revoke'",
    )
      .bind(id)
      .all<{ actor: string; changes: string }>()
  ).results.map((r) => ({ actor: r.actor, changes: JSON.parse(r.changes) as Record<string, unknown> }));

/** The one notice sent to `hook`: about the credential, naming its creator, holding neither secret nor hash. */
async function expectNotice(
  hook: string,
  c: Minted,
  expected: { source: string; revoked: boolean; createdBy: string; type?: string },
) {
  const [body, ...more] = await deliveriesTo(hook);
  expect(more).toHaveLength(0);
  expect(JSON.parse(body!)).toMatchObject({
    type: expected.type ?? "credential.leaked",
    credential_id: c.id,
    created_by: expected.createdBy,
    data: { source: expected.source, revoked: expected.revoked, name: "ci-rotation", hint: c.hint },
  });
  expect(JSON.parse(body!)).not.toHaveProperty("owner_id");
  expect(body).not.toContain(c.secret);
  expect(body).not.toContain(await sha256Hex(c.secret));
}

describe("a leaked admin credential", () => {
  it("in a gitleaks report: revoked at once (the next admin call is 401), recorded, audited, its creator told", async () => {
    const c = await mintLeakable();
    expect(await adminStatus(c.secret)).toBe(200);
    const hook = newHook();
    const response = await ingest(hook.env, "gitleaks", JSON.stringify([gitleaksFinding(c.secret)]));
    expect(response.status).toBe(200);
    const summary = (await response.json()) as IngestSummary;
    expect(summary.results).toEqual([{ index: 0, status: "revoked", key_id: null, duplicate: false }]);
    expect(summary.counts).toMatchObject({ revoked: 1, not_a_key: 0, no_match: 0 });

    expect(await adminStatus(c.secret)).toBe(401);
    expect(await credentialRow(c.id)).toMatchObject({ revoke_reason: "leaked" });
    const [event, ...others] = await eventsOf(c.id);
    expect(others).toHaveLength(0);
    expect(event).toMatchObject({
      key_id: null,
      source: "gitleaks",
      outcome: "revoked",
      location: "ci/.env:3 @ 0123456789ab",
    });
    expect(event!.revoked_at).not.toBeNull();
    expect(await revokeAudits(c.id)).toEqual([
      {
        actor: "ADMIN_TOKEN",
        changes: { status: "revoked", revoke_reason: "leaked", leak_source: "gitleaks", location: event!.location },
      },
    ]);
    await expectNotice(hook.url, c, { source: "gitleaks", revoked: true, createdBy: "ADMIN_TOKEN" });

    // A replay changes nothing and tells no one again.
    const replay = (await (
      await ingest(hook.env, "gitleaks", JSON.stringify([gitleaksFinding(c.secret)]))
    ).json()) as IngestSummary;
    expect(replay.results).toEqual([{ index: 0, status: "revoked", key_id: null, duplicate: true }]);
    expect(await eventsOf(c.id)).toHaveLength(1);
    expect(await revokeAudits(c.id)).toHaveLength(1);
    expect(await deliveriesTo(hook.url)).toHaveLength(1);
  });

  it("names the credential that minted it as the creator told", async () => {
    const parent = await mintLeakable();
    const child = await mintLeakable(parent.secret);
    const hook = newHook();
    await ingest(hook.env, "gitleaks", JSON.stringify([gitleaksFinding(child.secret)]));
    await expectNotice(hook.url, child, { source: "gitleaks", revoked: true, createdBy: `credential:${parent.id}` });
    expect(await adminStatus(parent.secret)).toBe(200);
  });

  it("in truffleHog's JSON lines: revoked, already_revoked on a second place it was found", async () => {
    const c = await mintLeakable();
    const hook = newHook();
    const send = (file: string) =>
      ingest(hook.env, "trufflehog", trufflehogLine(c.secret, file), "application/x-ndjson");
    const first = (await (await send("deploy.sh")).json()) as IngestSummary;
    expect(first.results.map((r) => r.status)).toEqual(["revoked"]);
    expect(await adminStatus(c.secret)).toBe(401);
    const second = (await (await send("other.sh")).json()) as IngestSummary;
    expect(second.results.map((r) => [r.status, r.duplicate])).toEqual([["already_revoked", false]]);
    expect((await eventsOf(c.id)).map((e) => [e.source, e.outcome])).toEqual([
      ["trufflehog", "revoked"],
      ["trufflehog", "already_revoked"],
    ]);
    await expectNotice(hook.url, c, { source: "trufflehog", revoked: true, createdBy: "ADMIN_TOKEN" });
  });

  it("in a GitHub secret scanning alert: revoked, labelled true_positive, audited as the webhook", async () => {
    const c = await mintLeakable();
    const hook = newHook();
    const body = alertBody([c.secret]);
    const response = await callWith(
      { ...hook.env, GITHUB_SECRET_SCANNING_KEYS_URL: GITHUB_KEYS_URL },
      "/webhooks/github/secret-scanning",
      {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "Github-Public-Key-Identifier": signer.id,
          "Github-Public-Key-Signature": await signBody(signer, body),
        },
        body,
      },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([
      { token_hash: await sha256Hex(c.secret), token_type: "edge_key_authorizer_secret", label: "true_positive" },
    ]);
    expect(await adminStatus(c.secret)).toBe(401);
    expect((await revokeAudits(c.id)).map((a) => a.actor)).toEqual(["github-secret-scanning"]);
    expect((await eventsOf(c.id)).map((e) => [e.source, e.outcome])).toEqual([["github", "revoked"]]);
    await expectNotice(hook.url, c, { source: "github", revoked: true, createdBy: "ADMIN_TOKEN" });
  });

  it("in the built-in scanner's report: recorded (its creator told, it keeps working), then revoked with revoke: true", async () => {
    const c = await mintLeakable();
    const hook = newHook();
    const findings = [{ key_hash: await sha256Hex(c.secret), location: "ci/.env:1:18" }];
    const recorded = (await (await ingest(hook.env, "scanner", JSON.stringify({ findings }))).json()) as IngestSummary;
    expect(recorded.results).toEqual([{ index: 0, status: "recorded", key_id: null, duplicate: false }]);
    expect(await adminStatus(c.secret)).toBe(200);
    await expectNotice(hook.url, c, { source: "scanner", revoked: false, createdBy: "ADMIN_TOKEN" });

    const revokeHook = newHook();
    const revoked = (await (
      await ingest(revokeHook.env, "scanner", JSON.stringify({ findings, revoke: true }))
    ).json()) as IngestSummary;
    expect(revoked.results).toEqual([{ index: 0, status: "revoked", key_id: null, duplicate: false }]);
    expect(await adminStatus(c.secret)).toBe(401);
    expect(await eventsOf(c.id)).toEqual([expect.objectContaining({ source: "scanner", outcome: "revoked" })]);
    await expectNotice(revokeHook.url, c, { source: "scanner", revoked: true, createdBy: "ADMIN_TOKEN" });
  });

  it("at truffleHog's verification call: 200 while live (recorded, its creator told), 403 once revoked", async () => {
    const c = await mintLeakable();
    const hook = newHook();
    const verify = () =>
      callWith({ ...hook.env, TRUFFLEHOG_VERIFY_TOKEN: VERIFY_TOKEN }, "/webhooks/trufflehog/verify", {
        method: "POST",
        headers: {
          Authorization: `Bearer ${VERIFY_TOKEN}`,
          "Content-Type": "application/json",
          "CF-Connecting-IP": "192.0.2.201",
        },
        body: JSON.stringify({ EdgeKeyAuthorizer_ak: { key: [c.secret] } }),
      });
    expect((await verify()).status).toBe(200);
    expect(await adminStatus(c.secret)).toBe(200); // TRUFFLEHOG_REVOKE_ON_VERIFY is off
    expect((await eventsOf(c.id)).map((e) => [e.source, e.outcome])).toEqual([["trufflehog", "recorded"]]);
    await expectNotice(hook.url, c, { source: "trufflehog", revoked: false, createdBy: "ADMIN_TOKEN" });
    await admin(`/credentials/${c.id}/revoke`, { json: {} });
    expect((await verify()).status).toBe(403);
  });

  it("reported with a bad checksum, or cut short, matches nothing and is no event", async () => {
    const c = await mintLeakable();
    const flipped = c.secret.slice(0, -1) + (c.secret.endsWith("0") ? "1" : "0");
    const random = `ak_${"aB3".repeat(16)}x`;
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM leak_events").first<{ n: number }>();
    const summary = (await (
      await ingest(
        {},
        "gitleaks",
        JSON.stringify([gitleaksFinding(flipped), gitleaksFinding(c.secret.slice(0, -1)), gitleaksFinding(random)]),
      )
    ).json()) as IngestSummary;
    expect(summary.results.map((r) => r.status)).toEqual(["not_a_key", "not_a_key", "not_a_key"]);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM leak_events").first<{ n: number }>()).toEqual(before);
    expect(await adminStatus(c.secret)).toBe(200);
  });

  it("of ANOTHER vendor prefix is not looked up, even if a credential with its hash were stored", async () => {
    const other = generateCredential("other");
    // A row whose hash is that string's: were it looked up, it would be found and revoked.
    const id = "cred_0000000000000000000other";
    await env.DB.prepare(
      `INSERT INTO admin_credentials (id, name, hash, hint, permissions, consumers, created_by, created_at, expires_at)
       VALUES (?1, 'planted', ?2, ?3, '["keys:read"]', NULL, 'ADMIN_TOKEN', 0, 9999999999999)`,
    )
      .bind(id, await sha256Hex(other), other.slice(-4))
      .run();
    const gitleaks = (await (
      await ingest({}, "gitleaks", JSON.stringify([gitleaksFinding(other)]))
    ).json()) as IngestSummary;
    expect(gitleaks.results.map((r) => r.status)).toEqual(["not_a_key"]);
    const trufflehog = (await (
      await ingest({}, "trufflehog", trufflehogLine(other), "application/x-ndjson")
    ).json()) as IngestSummary;
    expect(trufflehog.results.map((r) => r.status)).toEqual(["not_a_key"]);
    expect(await credentialRow(id)).toEqual({ revoked_at: null, revoke_reason: null });
    expect(await eventsOf(id)).toEqual([]);
  });

  it("beside a key in one report: each is revoked, and the answer says no more about which is which than key_id", async () => {
    const c = await mintLeakable();
    const keyResponse = await admin("/keys", { json: { owner_id: "mixed-owner" } });
    const key = (await keyResponse.json()) as { api_key: string; key: { id: string } };
    const unknownCredential = generateCredential("");
    const summary = (await (
      await ingest(
        {},
        "gitleaks",
        JSON.stringify([
          gitleaksFinding(c.secret, "a"),
          gitleaksFinding(key.api_key, "b"),
          gitleaksFinding(unknownCredential, "c"),
          gitleaksFinding(generateKey("", "secret", "live"), "d"),
        ]),
      )
    ).json()) as IngestSummary;
    expect(summary.results.map((r) => [r.status, r.key_id])).toEqual([
      ["revoked", null],
      ["revoked", key.key.id],
      ["no_match", null],
      ["no_match", null],
    ]);
    expect(Object.keys(summary.results[0]!).sort()).toEqual(Object.keys(summary.results[1]!).sort());
    expect(await adminStatus(c.secret)).toBe(401);
  });
});

/** D1 whose batches fail when one of their statements' SQL holds `fragment`; everything else is the real D1. */
function failingBatchesWith(fragment: string): D1Database {
  const doomed = new WeakSet<object>();
  const tag = (statement: D1PreparedStatement, dead: boolean): D1PreparedStatement => {
    if (!dead) return statement;
    const wrapped = new Proxy(statement, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => tag(target.bind(...values), true);
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    doomed.add(wrapped);
    return wrapped;
  };
  return new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => tag(target.prepare(sql), sql.includes(fragment));
      if (prop === "batch")
        return async (statements: D1PreparedStatement[]) => {
          if (statements.some((st) => doomed.has(st))) throw new Error("D1_ERROR: unavailable");
          return target.batch(statements);
        };
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("a credential revocation that fails part-way", () => {
  it("answers 503 with its event waiting, and the replay completes it and tells the creator once", async () => {
    const c = await mintLeakable();
    const hook = newHook();
    const report = JSON.stringify([gitleaksFinding(c.secret)]);
    const failed = await ingest(
      { ...hook.env, DB: failingBatchesWith("UPDATE admin_credentials SET revoked_at") },
      "gitleaks",
      report,
    );
    expect(failed.status).toBe(503);
    expect((await problemOf(failed)).code).toBe("authorizer_unavailable");
    expect(await adminStatus(c.secret)).toBe(200);
    expect((await eventsOf(c.id)).map((e) => [e.outcome, e.revoked_at])).toEqual([["revoked", null]]);
    expect(await deliveriesTo(hook.url)).toEqual([]);

    const replay = await ingest(hook.env, "gitleaks", report);
    expect(replay.status).toBe(200);
    expect(((await replay.json()) as IngestSummary).results).toEqual([
      { index: 0, status: "revoked", key_id: null, duplicate: false },
    ]);
    expect(await adminStatus(c.secret)).toBe(401);
    expect((await eventsOf(c.id))[0]!.revoked_at).not.toBeNull();
    expect(await revokeAudits(c.id)).toHaveLength(1);
    await expectNotice(hook.url, c, { source: "gitleaks", revoked: true, createdBy: "ADMIN_TOKEN" });
  });
});

describe("an admin credential in a URL query string", () => {
  it("is refused at the gateway under any parameter name, recorded as an exposure and its creator told", async () => {
    const c = await mintLeakable();
    const hook = newHook();
    const trace = crypto.randomUUID();
    const refused = await callWith(hook.env, `/api/v1/things?page=2&q=${c.secret}`, {
      headers: { "X-Test-Trace": trace, "CF-Connecting-IP": "198.51.100.31" },
    });
    expect(refused.status).toBe(400);
    expect((await problemOf(refused)).code).toBe("key_in_query");
    expect(await originSaw(trace)).toBe(false);
    expect((await eventsOf(c.id)).map((e) => [e.source, e.outcome, e.location])).toEqual([
      ["gateway_query", "recorded", "GET /api/v1/things"],
    ]);
    await expectNotice(hook.url, c, {
      source: "gateway_query",
      revoked: false,
      createdBy: "ADMIN_TOKEN",
      type: "credential.exposed",
    });
    expect(await adminStatus(c.secret)).toBe(200);
  });

  it("is revoked when REVOKE_ON_QUERY_EXPOSURE is true (audited as the gateway)", async () => {
    const c = await mintLeakable();
    const response = await callWith(
      { REVOKE_ON_QUERY_EXPOSURE: "true" },
      `/api/v1/x?x=${encodeURIComponent(c.secret)}`,
      {
        headers: { "CF-Connecting-IP": "198.51.100.32" },
      },
    );
    expect(response.status).toBe(400);
    expect(await adminStatus(c.secret)).toBe(401);
    expect((await revokeAudits(c.id)).map((a) => a.actor)).toEqual(["gateway"]);
  });

  it("is refused on an admin route (key_in_query) and does not open it", async () => {
    const c = await mintLeakable();
    const response = await call(`/admin/v1/keys?cursor=${c.secret}`, {
      headers: { Authorization: `Bearer ${c.secret}` },
    });
    expect(response.status).toBe(400);
    expect((await problemOf(response)).code).toBe("key_in_query");
  });
});
