/**
 * The portal's pages and actions: a consumer creates, rotates and revokes its own keys within its key policy,
 * sees its trail with its platform's staff as "your platform", and reaches nothing of another consumer's; a
 * forged CSRF token, a foreign Origin and a disabled consumer each change nothing.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { makeConsumer, setConsumerStatus } from "../admin/consumer-helpers";
import { admin, gatewayStatus, mintKey } from "../helpers";
import { PORTAL, type PortalClient, signedInPortal } from "./helpers";

const POLICY = {
  allowed_scopes: ["read", "write"],
  allowed_environments: ["test"],
  max_lifetime_days: 90,
  max_grace_hours: 48,
  default_rate_limits: [{ name: "minute", limit: 60, window_seconds: 60 }],
};

/** Everything a refused action could have changed: the keys and the audit log. */
async function snapshot() {
  const keys = await env.DB.prepare("SELECT id, status, owner_id, rotated_to, version FROM api_keys ORDER BY id").all();
  const audit = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_log").first<{ n: number }>();
  return { keys: keys.results, audit: audit!.n };
}

const secretOf = (html: string) =>
  /<code id="new-secret" data-secret="">([^<]+)<\/code>/.exec(html)?.[1] ??
  /data-secret[^>]*>\s*([^<\s]+)/.exec(html)?.[1];

async function createViaForm(client: PortalClient, fields: Record<string, string>) {
  const hidden = await client.formFields("/keys/new");
  return { response: await client.post("/keys/new", { ...hidden, ...fields }), hidden };
}

async function ownKeys(consumerId: string) {
  return (
    await env.DB.prepare("SELECT * FROM api_keys WHERE owner_id = ? ORDER BY created_at")
      .bind(consumerId)
      .all<Record<string, unknown>>()
  ).results;
}

describe("a consumer's own keys", () => {
  it("creates a key within its policy: the secret once, the policy's limits, no owner but its own, audited as portal:<id>", async () => {
    const c = await makeConsumer({ key_policy: POLICY });
    const other = await makeConsumer();
    const client = await signedInPortal(c.id);
    const { response, hidden } = await createViaForm(client, {
      name: "billing job",
      type: "secret",
      environment: "test",
      scopes: "read, write",
      expires_in_days: "30",
      ip_allowlist: "203.0.113.0/24",
      allowed_routes: "GET /api/v1/orders/*",
      owner_id: other.id, // not a field of the portal's form: never read
    });
    expect(response.status).toBe(201);
    const html = await response.text();
    expect(html).toContain("Copy this key now");
    expect(html).toContain("data-copy");
    const secret = secretOf(html)!;
    expect(secret).toMatch(/^[a-z]+_test_/);
    const [key] = await ownKeys(c.id);
    expect(key).toMatchObject({ name: "billing job", environment: "test" });
    expect(JSON.parse(String(key!.rate_limits))).toEqual(POLICY.default_rate_limits);
    expect(JSON.parse(String(key!.ip_allowlist))).toEqual(["203.0.113.0/24"]);
    expect(await ownKeys(other.id)).toEqual([]);
    const audit = await env.DB.prepare("SELECT actor FROM audit_log WHERE subject_type = 'key' AND subject_id = ?")
      .bind(key!.id)
      .all<{ actor: string }>();
    expect(audit.results.map((r) => r.actor)).toEqual([`portal:${c.id}`]);

    // The key's page shows its hint, never the secret; a resubmitted form mints nothing and shows nothing.
    const page = await (await client.get(`/keys/${key!.id}`)).text();
    expect(page).toContain(String(key!.hint));
    expect(page).not.toContain(secret);
    const again = await client.post("/keys/new", {
      ...hidden,
      name: "billing job",
      environment: "test",
      scopes: "read",
    });
    expect(again.status).toBe(303);
    expect(await ownKeys(c.id)).toHaveLength(1);
  });

  it("refuses what its policy does not allow, field by field, and mints nothing", async () => {
    const c = await makeConsumer({ key_policy: POLICY });
    const client = await signedInPortal(c.id);
    const before = await snapshot();
    const scopes = await createViaForm(client, { environment: "test", scopes: "read, admin" });
    expect(scopes.response.status).toBe(400);
    expect(await scopes.response.text()).toContain("allowed_scopes");
    const live = await createViaForm(client, { environment: "live", scopes: "read" });
    expect(live.response.status).toBe(400);
    const long = await createViaForm(client, { environment: "test", scopes: "read", expires_in_days: "91" });
    expect(long.response.status).toBe(400);
    expect(await long.response.text()).toContain("at most 90 days");
    expect(await snapshot()).toEqual(before);
  });

  it('rotates with a grace up to max_grace_hours, and revokes; its trail names staff as "your platform"', async () => {
    const c = await makeConsumer({ key_policy: POLICY });
    const staffKey = await mintKey({ owner_id: c.id, environment: "test", scopes: ["read"], expires_in_days: 30 });
    const client = await signedInPortal(c.id);

    const rotatePage = await (await client.get(`/keys/${staffKey.id}/rotate`)).text();
    expect(rotatePage).toContain('value="48"');
    expect(rotatePage).not.toContain('value="168"');
    const tooLong = await client.post(`/keys/${staffKey.id}/rotate`, {
      ...(await client.formFields(`/keys/${staffKey.id}/rotate`)),
      grace_period_hours: "168",
    });
    expect(tooLong.status).toBe(400);
    expect(await tooLong.text()).toContain("at most 48 hours");
    const rotated = await client.post(`/keys/${staffKey.id}/rotate`, {
      ...(await client.formFields(`/keys/${staffKey.id}/rotate`)),
      grace_period_hours: "24",
    });
    expect(rotated.status).toBe(201);
    expect(secretOf(await rotated.text())).toBeTruthy();
    const successor = (await ownKeys(c.id)).find((k) => k.rotated_from === staffKey.id)!;
    expect(successor).toBeDefined();

    const revoked = await client.post(`/keys/${successor.id}/revoke`, {
      ...(await client.formFields(`/keys/${successor.id}/revoke`)),
      reason: "no longer used",
    });
    expect(revoked.status).toBe(303);
    const row = await env.DB.prepare("SELECT status, revoke_reason FROM api_keys WHERE id = ?")
      .bind(successor.id)
      .first();
    expect(row).toMatchObject({ status: "revoked", revoke_reason: "no longer used" });

    const activity = await (await client.get("/activity")).text();
    const actors = [...activity.matchAll(/<td data-actor[^>]*>([^<]+)<\/td>/g)].map((m) => m[1]);
    expect(actors).toContain("You");
    expect(actors).toContain("your platform");
    expect(activity).not.toContain("ADMIN_TOKEN");
    const own = await env.DB.prepare("SELECT DISTINCT actor FROM audit_log WHERE consumer_id = ?")
      .bind(c.id)
      .all<{ actor: string }>();
    expect(own.results.map((r) => r.actor).sort()).toEqual(["ADMIN_TOKEN", `portal:${c.id}`]);
  });
});

describe("limits", () => {
  it("shows what is left of its key's and its shared limits now, and reading them spends nothing", async () => {
    const c = await makeConsumer({ rate_limits: [{ name: "day", limit: 10, window_seconds: 86400 }] });
    const { id, apiKey } = await mintKey({
      owner_id: c.id,
      rate_limits: [{ name: "minute", limit: 5, window_seconds: 60 }],
    });
    expect(await gatewayStatus(apiKey)).toBe(200);
    const client = await signedInPortal(c.id);
    const left = async (path: string, limit: string, whose: string) => {
      const html = await (await client.get(path)).text();
      return new RegExp(`<tr data-limit="${limit}"><td>${limit}</td><td>${whose}</td><td class="num">(\\d+)</td>`).exec(
        html,
      )?.[1];
    };
    expect(await left(`/keys/${id}`, "minute", "key")).toBe("4");
    expect(await left(`/keys/${id}`, "minute", "key")).toBe("4");
    expect(await left("/", "consumer.day", "consumer \\(shared\\)")).toBe("9");
    expect(await left("/", "consumer.day", "consumer \\(shared\\)")).toBe("9");
  });
});

describe("isolation", () => {
  it("another consumer's key is not found in any URL, and nothing of it changes", async () => {
    const mine = await makeConsumer();
    const theirs = await makeConsumer();
    const key = await mintKey({ owner_id: theirs.id });
    const client = await signedInPortal(mine.id);
    const { csrf } = await client.formFields("/keys/new");
    const before = await snapshot();
    for (const path of [`/keys/${key.id}`, `/keys/${key.id}/rotate`, `/keys/${key.id}/revoke`]) {
      const res = await client.get(path);
      expect(res.status, path).toBe(404);
      expect(await res.text()).not.toContain(key.key.hint);
    }
    expect((await client.post(`/keys/${key.id}/revoke`, { csrf })).status).toBe(404);
    expect(
      (await client.post(`/keys/${key.id}/rotate`, { csrf, form_id: "x".repeat(43), grace_period_hours: "0" })).status,
    ).toBe(404);
    expect((await client.get("/activity")).status).toBe(200);
    expect(await (await client.get("/")).text()).not.toContain(key.id);
    expect(await snapshot()).toEqual(before);
  });

  it("a forged CSRF token, a foreign Origin or none at all: refused, nothing changed", async () => {
    const c = await makeConsumer();
    const key = await mintKey({ owner_id: c.id });
    const client = await signedInPortal(c.id);
    const hidden = await client.formFields("/keys/new");
    const otherClient = await signedInPortal(c.id);
    const otherCsrf = (await otherClient.formFields("/keys/new")).csrf;
    const before = await snapshot();
    const forged = await client.post(`/keys/${key.id}/revoke`, { csrf: "A".repeat(43) });
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain("security token");
    expect((await client.post(`/keys/${key.id}/revoke`, { csrf: hidden.csrf }, "https://evil.example")).status).toBe(
      403,
    );
    expect((await client.post(`/keys/${key.id}/revoke`, { csrf: hidden.csrf }, null)).status).toBe(403);
    expect((await client.post("/keys/new", { ...hidden, name: "x" }, "https://evil.example")).status).toBe(403);
    // Another portal session's token is no better than a forged one.
    expect((await client.post(`/keys/${key.id}/revoke`, { csrf: otherCsrf })).status).toBe(403);
    expect(await snapshot()).toEqual(before);
  });

  it("a disabled consumer's portal shows its keys with a notice and changes nothing", async () => {
    const c = await makeConsumer();
    const key = await mintKey({ owner_id: c.id });
    const client = await signedInPortal(c.id);
    const hidden = await client.formFields("/keys/new");
    await setConsumerStatus(c.id, "disabled");
    const home = await (await client.get("/")).text();
    expect(home).toContain("Your access is disabled");
    expect(home).toContain(key.id);
    expect(home).not.toContain("Create a key</a>");
    expect(await (await client.get(`/keys/${key.id}`)).text()).not.toContain("Revoke key</a>");
    const before = await snapshot();
    expect((await client.get("/keys/new")).status).toBe(409);
    expect((await client.post("/keys/new", { ...hidden, name: "x" })).status).toBe(409);
    expect((await client.post(`/keys/${key.id}/revoke`, { csrf: hidden.csrf })).status).toBe(409);
    expect((await client.post(`/keys/${key.id}/rotate`, { ...hidden, grace_period_hours: "0" })).status).toBe(409);
    expect(await snapshot()).toEqual(before);
  });

  it("signing out ends the session on the server", async () => {
    const c = await makeConsumer();
    const client = await signedInPortal(c.id, { return_url: "https://app.example.com/account" });
    const home = await (await client.get("/")).text();
    expect(home).toContain("Back to app.example.com");
    const cookie = client.cookies.get("portal_session")!;
    const { csrf } = await client.formFields("/");
    const out = await client.post("/sign-out", { csrf });
    expect(out.status).toBe(200);
    const replay = await client.request(`${PORTAL}/`, { headers: { Cookie: `portal_session=${cookie}` } });
    expect(replay.status).toBe(403);
  });
});

describe("the admin API's key policy", () => {
  it("max_grace_hours bounds every rotation, the admin API's too", async () => {
    const c = await makeConsumer({ key_policy: { max_grace_hours: 12 } });
    const key = await mintKey({ owner_id: c.id });
    const refused = await admin(`/keys/${key.id}/rotate`, { json: { grace_period_hours: 13 } });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toContain("grace_period_hours");
    expect(
      (await env.DB.prepare("SELECT rotated_to FROM api_keys WHERE id = ?").bind(key.id).first())!.rotated_to,
    ).toBeNull();
    expect((await admin(`/keys/${key.id}/rotate`, { json: { grace_period_hours: 12 } })).status).toBe(201);
  });
});
