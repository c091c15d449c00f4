/**
 * Console pages in workerd: Access sign-in with ACCESS_POLICY's grants (a narrow identity sees and may do only
 * what its grant allows, on its consumers only), the consumer actions, and the edit form's field errors.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { testClock } from "../clock";
import { admin, gatewayStatus, mintKey } from "../helpers";
import { ConsoleClient } from "./helpers";

const TEAM = "https://team.example.com";
const AUD = "aud-console-01";
const POLICY = [
  { email: "ops@example.com", operations: "admin" },
  { email: "viewer@example.com", operations: ["keys:read"], consumers: ["partner-co"] },
];
const ACCESS = { ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD, ACCESS_POLICY: JSON.stringify(POLICY) };

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replaceAll("=", "");
const encodeJson = (value: unknown) => b64url(new TextEncoder().encode(JSON.stringify(value)));
let signingKey: CryptoKey;

async function jwtFor(email: string): Promise<string> {
  const now = Math.floor(testClock.now() / 1000);
  const claims = { aud: [AUD], iss: TEAM, email, exp: now + 3600, nbf: now - 10, sub: email };
  const head = `${encodeJson({ alg: "RS256", kid: "kid-c", typ: "JWT" })}.${encodeJson(claims)}`;
  const sig = new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", signingKey, new TextEncoder().encode(head)));
  return `${head}.${b64url(sig)}`;
}

/** A client behind Access: every request carries this person's JWT, as Access adds it at the edge. */
async function accessClient(email: string): Promise<ConsoleClient> {
  const client = new ConsoleClient(ACCESS);
  const jwt = await jwtFor(email);
  const request = client.request.bind(client);
  client.request = (path, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set("Cf-Access-Jwt-Assertion", jwt);
    return request(path, { ...init, headers });
  };
  return client;
}

beforeAll(async () => {
  const pair = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  signingKey = pair.privateKey;
  const jwk = { ...(await crypto.subtle.exportKey("jwk", pair.publicKey)), kid: "kid-c" };
  await env.ORIGIN!.fetch(`${TEAM}/cdn-cgi/access/certs`, { method: "PUT", body: JSON.stringify({ keys: [jwk] }) });
});

describe("Access sign-in", () => {
  it("offers no token form when Access is configured, and opens a session for a mapped identity", async () => {
    const client = await accessClient("ops@example.com");
    expect(await (await client.get("/sign-in")).text()).not.toContain('name="token"');
    expect((await client.get("/sign-in/access")).status).toBe(303);
    const page = await (await client.get("/keys")).text();
    expect(page).toContain("access:ops@example.com");
    const row = await env.DB.prepare("SELECT actor, method, outcome FROM console_sign_ins ORDER BY id DESC").first();
    expect(row).toEqual({ actor: "access:ops@example.com", method: "access", outcome: "signed_in" });
  });

  it("refuses an identity ACCESS_POLICY does not name, and records the refusal", async () => {
    const client = await accessClient("stranger@elsewhere.example");
    expect((await client.get("/sign-in/access")).status).toBe(401);
    expect(client.cookies.has("console_session")).toBe(false);
  });

  it("ends the session when the request stops carrying that person's JWT", async () => {
    const client = await accessClient("ops@example.com");
    await client.get("/sign-in/access");
    const cookie = client.cookies.get("console_session")!;
    const other = await accessClient("viewer@example.com");
    other.cookies.set("console_session", cookie); // another person's JWT with ops' cookie
    expect((await other.get("/keys")).status).toBe(303);
  });

  it("gives a narrow identity its grant only: its consumers' keys, no actions it lacks, 403 for the rest", async () => {
    const mine = await mintKey({ owner_id: "partner-co", name: "Partner key" });
    const theirs = await mintKey({ owner_id: "someone-else", name: "Other key" });
    const client = await accessClient("viewer@example.com");
    await client.get("/sign-in/access");
    const list = await (await client.get("/keys")).text();
    expect(list).toContain(mine.id);
    expect(list).not.toContain(theirs.id);
    expect(list).not.toContain("Create key");
    const page = await client.get(`/keys/${mine.id}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toContain("Revoke key");
    expect(html).not.toContain("Rotate key");
    expect((await client.get(`/keys/${theirs.id}`)).status).toBe(404);
    expect((await client.get("/keys/new")).status).toBe(403);
    expect((await client.get("/report")).status).toBe(403);
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    expect((await client.post(`/keys/${mine.id}/revoke`, { csrf })).status).toBe(403);
    const row = await env.DB.prepare("SELECT status FROM api_keys WHERE id = ?")
      .bind(mine.id)
      .first<{ status: string }>();
    expect(row!.status).toBe("active");
  });
});

describe("consumers", () => {
  it("revoke all keys: the confirmation names how many, and the action revokes them", async () => {
    await admin("/consumers", { json: { id: "bulk-co", name: "Bulk Co" } });
    const keys = await Promise.all([1, 2, 3].map(() => mintKey({ owner_id: "bulk-co" })));
    await admin(`/keys/${keys[0]!.id}/revoke`, { json: {} });
    const client = new ConsoleClient();
    await client.signIn();
    const confirm = await (await client.get("/consumers/bulk-co/revoke-keys")).text();
    expect(confirm).toContain('data-revoke-count="2"');
    expect(confirm).toContain("Revoke 2 keys");
    const csrf = /name="csrf" value="([^"]+)"/.exec(confirm)![1]!;
    const done = await client.post("/consumers/bulk-co/revoke-keys", { csrf, reason: "contract ended" });
    expect(done.status).toBe(303);
    const consumer = (await (await admin("/consumers/bulk-co", { method: "GET" })).json()) as {
      keys_revoked_before: string | null;
    };
    expect(consumer.keys_revoked_before).not.toBeNull();
    // Refused at once (the consumer's cut-off), whatever the per-key revocations' progress.
    for (const key of keys.slice(1)) expect(await gatewayStatus(key.apiKey)).toBe(401);
  });

  it("disable and enable, each audited as the signed-in principal", async () => {
    await admin("/consumers", { json: { id: "toggle-co" } });
    const client = new ConsoleClient();
    await client.signIn();
    const csrf = await client.csrf("/consumers/toggle-co");
    expect((await client.post("/consumers/toggle-co/disable", { csrf })).status).toBe(303);
    expect(await (await client.get("/consumers/toggle-co")).text()).toContain("Enable consumer");
    expect((await client.post("/consumers/toggle-co/enable", { csrf })).status).toBe(303);
    const { results } = await env.DB.prepare(
      "SELECT actor, action FROM audit_log WHERE subject_type = 'consumer' AND subject_id = 'toggle-co' ORDER BY id",
    ).all();
    expect(results.slice(-2)).toEqual([
      { actor: "ADMIN_TOKEN", action: "disable" },
      { actor: "ADMIN_TOKEN", action: "enable" },
    ]);
  });
});

describe("editing a key", () => {
  it("shows each refusal in the summary and beside its field, and changes nothing", async () => {
    const { id } = await mintKey({ name: "Before" });
    const client = new ConsoleClient();
    await client.signIn();
    const csrf = await client.csrf(`/keys/${id}/edit`);
    const refused = await client.post(`/keys/${id}/edit`, {
      csrf,
      name: "After",
      scopes: "read, BAD SCOPE",
      ip_allowlist: "10.0.0.1/8",
      allowed_routes: "",
      expires_on: "2001-01-01",
    });
    expect(refused.status).toBe(400);
    const html = await refused.text();
    expect(html).toContain('class="error-summary"');
    expect(html).toContain('href="#f-scopes"');
    expect(html).toContain('href="#f-ip_allowlist"');
    expect(html).toMatch(/class="field has-error"><label for="f-scopes"/);
    expect(html).toContain('value="After"'); // what was typed is kept
    const row = await env.DB.prepare("SELECT name, version FROM api_keys WHERE id = ?").bind(id).first();
    expect(row).toEqual({ name: "Before", version: 1 });

    const saved = await client.post(`/keys/${id}/edit`, {
      csrf,
      name: "After",
      scopes: "read, write",
      ip_allowlist: "10.0.0.0/8",
    });
    expect(saved.status).toBe(303);
    const after = await env.DB.prepare("SELECT name, scopes, ip_allowlist FROM api_keys WHERE id = ?").bind(id).first();
    expect(after).toEqual({ name: "After", scopes: '["read","write"]', ip_allowlist: '["10.0.0.0/8"]' });
    const audit = await env.DB.prepare("SELECT changes FROM audit_log WHERE subject_id = ? AND action = 'update'")
      .bind(id)
      .first<{ changes: string }>();
    expect(Object.keys(JSON.parse(audit!.changes)).sort()).toEqual(["ip_allowlist", "name", "scopes"]);
  });
});

describe("limits", () => {
  it("a key's page shows what is left of each limit now, and reading it spends nothing", async () => {
    const { id, apiKey } = await mintKey({ rate_limits: [{ name: "minute", limit: 5, window_seconds: 60 }] });
    expect(await gatewayStatus(apiKey)).toBe(200);
    const client = new ConsoleClient();
    await client.signIn();
    const left = async () => {
      const html = await (await client.get(`/keys/${id}`)).text();
      return /<tr data-limit="minute"><td>minute<\/td><td>key<\/td><td class="num">(\d+)<\/td>/.exec(html)?.[1];
    };
    expect(await left()).toBe("4");
    expect(await left()).toBe("4");
  });
});

describe("admin credentials", () => {
  it("mints one with its secret shown once, lists it, and revokes it", async () => {
    const client = new ConsoleClient();
    await client.signIn();
    const form = await (await client.get("/credentials")).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(form)![1]!;
    const formId = /name="form_id" value="([^"]+)"/.exec(form)![1]!;
    const fields = {
      csrf,
      form_id: formId,
      name: "ci-rotator",
      "op:keys:read": "on",
      "op:keys:rotate": "on",
      expires_in_days: "30",
    };
    const minted = await client.post("/credentials", fields);
    expect(minted.status).toBe(201);
    const secret = /id="new-secret"[^>]*>([^<]+)</.exec(await minted.text())![1]!.trim();
    const listed = await admin("/keys", { method: "GET", headers: { Authorization: `Bearer ${secret}` } });
    expect(listed.status).toBe(200); // the credential works, with keys:read
    expect((await client.post("/credentials", fields)).status).toBe(303); // a resubmission mints nothing
    const row = await env.DB.prepare("SELECT id FROM admin_credentials").all<{ id: string }>();
    expect(row.results).toHaveLength(1);
    const id = row.results[0]!.id;
    const page = await (await client.get("/credentials")).text();
    expect(page).toContain(`data-credential-id="${id}"`);
    expect(page).not.toContain(secret);
    expect((await client.post(`/credentials/${id}/revoke`, { csrf })).status).toBe(303);
    expect((await admin("/keys", { method: "GET", headers: { Authorization: `Bearer ${secret}` } })).status).toBe(401);
  });
});

describe("every page renders for the admin", () => {
  it.each(["/", "/keys", "/consumers", "/alerts", "/audit", "/report", "/keys/new", "/credentials", "/leaks"])(
    "%s",
    async (path) => {
      await mintKey({ owner_id: "render-co" });
      const client = new ConsoleClient();
      await client.signIn();
      const response = await client.get(path);
      expect(response.status).toBe(200);
      expect(response.headers.get("Cache-Control")).toBe("no-store");
      expect(await response.text()).toContain('<main id="main">');
    },
  );
});
