// The consumer portal in a real browser: a link from the platform's backend opens it on a clean URL; the consumer
// creates a key and reads its secret once, rotates it and revokes the successor; its activity shows the platform's
// staff as "your platform"; another consumer's key, a reused link, a forged CSRF token, a foreign Origin and a
// portal cookie on console or admin URLs are each refused with nothing changed; a disabled consumer's portal is
// read-only; signing out ends the session on the server.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchBrowser, startConsoleServer, submitAndReadSecretOnce } from "./harness.mjs";

let server;
let browser;
let page;
const state = {};
const POLICY = { allowed_scopes: ["read", "write"], max_lifetime_days: 90, max_grace_hours: 48 };

before(async () => {
  [server, browser] = await Promise.all([startConsoleServer(), launchBrowser()]);
  page = await browser.newPage();
  const must = async (promise, what) => {
    const { status, body } = await promise;
    if (status >= 300) throw new Error(`${what}: ${status} ${JSON.stringify(body)}`);
    return body;
  };
  await must(server.admin("/consumers", { json: { id: "acme", name: "Acme Corp", key_policy: POLICY } }), "acme");
  await must(server.admin("/consumers", { json: { id: "globex", name: "Globex" } }), "globex");
  state.staffKey = (
    await must(server.admin("/keys", { json: { owner_id: "acme", name: "Staff key" } }), "staff key")
  ).key;
  state.foreignKey = (
    await must(server.admin("/keys", { json: { owner_id: "globex", name: "Theirs" } }), "globex key")
  ).key;
});
after(async () => {
  await browser?.close();
  server?.stop();
});

const text = (selector) => page.$eval(selector, (el) => el.textContent.trim());
const portalUrl = () => `${server.consoleUrl}/portal`;
const openLink = async (consumer_id, extra = {}) => {
  const { status, body } = await server.admin("/portal/sessions", { json: { consumer_id, ...extra } });
  assert.equal(status, 201, JSON.stringify(body));
  return body.url;
};
const portalCookie = async () => (await page.cookies(`${portalUrl()}/`)).find((c) => c.name === "portal_session");

test("a link opens the portal on a clean URL, with a session cookie of the portal's own path", async () => {
  state.link = await openLink("acme", { return_url: "https://app.example.com/account", ttl_minutes: 15 });
  const token = state.link.split("/").pop();
  await page.goto(state.link);
  assert.equal(page.url(), `${portalUrl()}/`);
  assert.ok(!(await page.evaluate(() => location.href)).includes(token));
  assert.equal(await text("h1"), "Acme Corp");
  assert.match(await text(".crumbs a[href='https://app.example.com/account']"), /Back to app\.example\.com/);
  const cookie = await portalCookie();
  assert.ok(cookie.httpOnly);
  assert.equal(cookie.sameSite, "Strict");
  assert.equal(cookie.path, "/_console/portal");
  const lifetime = cookie.expires * 1000 - Date.now();
  assert.ok(lifetime > 14 * 60_000 && lifetime <= 15 * 60_000, `the cookie ends in ${lifetime} ms`);
  assert.ok(await page.$(`tr[data-key-id="${state.staffKey.id}"]`));
  assert.equal(await page.$(`tr[data-key-id="${state.foreignKey.id}"]`), null);
});

test("the same link a second time opens nothing", async () => {
  // Another browser (no cookie) and this one alike: the token was spent by the first visit.
  const elsewhere = await fetch(state.link, { redirect: "manual" });
  assert.equal(elsewhere.status, 403);
  assert.equal(elsewhere.headers.getSetCookie().length, 0);
  const before = (await portalCookie()).value;
  const response = await page.goto(state.link);
  assert.equal(response.status(), 403);
  assert.match(await text("h1"), /cannot be used/);
  assert.equal((await portalCookie()).value, before, "the refused visit set no cookie");
});

test("create a key within the policy: the secret once, with a copy button and a warning", async () => {
  await page.goto(`${portalUrl()}/keys/new`);
  await page.type("#f-name", "Portal key");
  await page.$eval("#f-scopes", (i) => {
    i.value = "read, write";
  });
  await page.type("#f-expires_in_days", "30");
  state.secret = await submitAndReadSecretOnce(page);
  const { body } = await server.admin("/keys?owner_id=acme");
  const created = body.keys.filter((k) => k.name === "Portal key");
  assert.equal(created.length, 1, "the reload minted no second key");
  assert.deepEqual(created[0].rate_limits, [{ name: "hour", limit: 1000, window_seconds: 3600 }]);
  assert.equal((await server.admin("/keys?owner_id=globex")).body.keys.length, 1);
  state.keyId = created[0].id;
  // The gateway admits it (no origin runs behind `wrangler dev` here: its answer is past the key check).
  const used = await fetch(`${server.base}/api/v1/x`, { headers: { "X-API-Key": state.secret } });
  assert.ok(![401, 403].includes(used.status), `the gateway answered ${used.status}: ${await used.text()}`);
});

test("a scope outside the policy is shown in the summary and beside its field", async () => {
  await page.goto(`${portalUrl()}/keys/new`);
  await page.$eval("#f-scopes", (i) => {
    i.value = "read, admin";
  });
  await Promise.all([page.waitForNavigation(), page.click("form.stack button[type=submit]")]);
  assert.match(await text(".error-summary"), /allowed_scopes/);
  assert.ok(await page.$(".field.has-error #f-scopes"));
});

test("rotate with a grace the policy allows: a new secret once; then revoke the successor", async () => {
  await page.goto(`${portalUrl()}/keys/${state.keyId}`);
  await Promise.all([page.waitForNavigation(), page.click('a[href$="/rotate"]')]);
  const offered = await page.$$eval("input[name=grace_period_hours]", (inputs) => inputs.map((i) => i.value));
  assert.deepEqual(offered, ["0", "1", "24", "48"]);
  await page.click('input[name=grace_period_hours][value="1"]');
  await Promise.all([page.waitForNavigation(), page.click("form.stack button[type=submit]")]);
  const successor = await text("#new-secret");
  assert.notEqual(successor, state.secret);
  const old = (await server.admin(`/keys/${state.keyId}`)).body;
  assert.ok(old.rotated_to);
  state.successorId = old.rotated_to;

  await page.goto(`${portalUrl()}/keys/${state.successorId}`);
  await Promise.all([page.waitForNavigation(), page.click('a[href$="/revoke"]')]);
  await page.type("#f-reason", "rotated out in the portal");
  await Promise.all([page.waitForNavigation(), page.click("button.danger")]);
  assert.match(await text("h1 .badge"), /revoked/);
  assert.equal((await server.admin(`/keys/${state.successorId}`)).body.status, "revoked");
});

test('the activity names the consumer\'s own actions "You" and its platform\'s staff "your platform"', async () => {
  await page.goto(`${portalUrl()}/activity`);
  const rows = await page.$$eval("table.audit tbody tr", (trs) =>
    trs.map((tr) => ({ action: tr.dataset.action, who: tr.querySelector("[data-actor]").textContent })),
  );
  assert.ok(rows.some((r) => r.action === "revoke" && r.who === "You"));
  assert.ok(rows.some((r) => r.action === "rotate" && r.who === "You"));
  assert.ok(
    rows.some((r) => r.who === "your platform"),
    "the staff's creation of the consumer and its key",
  );
  assert.ok(!(await page.content()).includes("ADMIN_TOKEN"));
  const audit = (await server.admin("/audit?consumer_id=acme&limit=100")).body.entries;
  assert.ok(audit.some((e) => e.actor === "portal:acme" && e.action === "revoke"));
});

test("another consumer's key is not found, and a forged CSRF token or a foreign Origin changes nothing", async () => {
  const foreign = await page.goto(`${portalUrl()}/keys/${state.foreignKey.id}`);
  assert.equal(foreign.status(), 404);
  assert.ok(!(await page.content()).includes(state.foreignKey.hint));

  await page.goto(`${portalUrl()}/keys/${state.staffKey.id}/revoke`);
  await page.$eval("form.stack input[name=csrf]", (i) => {
    i.value = `${i.value.slice(0, -4)}AAAA`;
  });
  const [forged] = await Promise.all([page.waitForNavigation(), page.click("button.danger")]);
  assert.equal(forged.status(), 403);
  assert.equal((await server.admin(`/keys/${state.staffKey.id}`)).body.status, "active");

  await page.goto(`${portalUrl()}/keys/${state.staffKey.id}/revoke`);
  const csrf = await page.$eval("form.stack input[name=csrf]", (i) => i.value);
  const cookie = (await portalCookie()).value;
  const post = (path, origin) =>
    fetch(`${portalUrl()}${path}`, {
      method: "POST",
      redirect: "manual",
      headers: {
        Cookie: `portal_session=${cookie}`,
        Origin: origin,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ csrf }),
    });
  assert.equal((await post(`/keys/${state.staffKey.id}/revoke`, "https://evil.example")).status, 403);
  assert.equal((await post(`/keys/${state.foreignKey.id}/revoke`, server.base)).status, 404);
  assert.equal((await server.admin(`/keys/${state.staffKey.id}`)).body.status, "active");
  assert.equal((await server.admin(`/keys/${state.foreignKey.id}`)).body.status, "active");
});

test("the portal's cookie opens no console page and no admin route", async () => {
  const cookie = `portal_session=${(await portalCookie()).value}`;
  const consolePage = await fetch(`${server.consoleUrl}/keys`, { redirect: "manual", headers: { Cookie: cookie } });
  assert.equal(consolePage.status, 303);
  assert.match(consolePage.headers.get("Location"), /\/sign-in$/);
  const adminRoute = await fetch(`${server.base}/admin/v1/keys`, { headers: { Cookie: cookie } });
  assert.equal(adminRoute.status, 401);
});

test("a disabled consumer's portal is read-only, with a notice", async () => {
  assert.equal((await server.admin("/consumers/acme/disable", { json: {} })).status, 200);
  await page.goto(`${portalUrl()}/`);
  assert.match(await text(".notice.warning"), /Your access is disabled/);
  assert.equal(await page.$('a[href$="/keys/new"]'), null);
  await page.goto(`${portalUrl()}/keys/${state.staffKey.id}`);
  assert.equal(await page.$('a[href$="/revoke"]'), null);
  const refused = await page.goto(`${portalUrl()}/keys/new`);
  assert.equal(refused.status(), 409);
  assert.equal((await server.admin("/consumers/acme/enable", { json: {} })).status, 200);
});

test("signing out ends the session on the server: the old cookie is refused", async () => {
  const cookie = (await portalCookie()).value;
  await page.goto(`${portalUrl()}/`);
  await Promise.all([page.waitForNavigation(), page.click(".who button")]);
  assert.match(await text("h1"), /left the portal/);
  const replayed = await fetch(`${portalUrl()}/`, {
    redirect: "manual",
    headers: { Cookie: `portal_session=${cookie}` },
  });
  assert.equal(replayed.status, 403);
});
