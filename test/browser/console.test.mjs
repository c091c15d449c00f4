// The console in a real browser: sign in; create a key and read its secret once; find it in the list; its usage
// chart is drawn and its table matches the rollups; rotate; revoke; the audit rows; a forged CSRF token and a
// foreign Origin change nothing; signing out ends the session on the server.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchBrowser, signIn, startConsoleServer, submitAndReadSecretOnce } from "./harness.mjs";

let server;
let browser;
let page;
const state = {};

before(async () => {
  [server, browser] = await Promise.all([startConsoleServer(), launchBrowser()]);
  page = await browser.newPage();
});
after(async () => {
  await browser?.close();
  server?.stop();
});

const text = (selector) => page.$eval(selector, (el) => el.textContent.trim());

test("sign in with the admin token", async () => {
  await page.goto(`${server.consoleUrl}/keys`);
  assert.match(page.url(), /\/_console\/sign-in$/); // not signed in: sent to the form
  await signIn(page, server);
  assert.equal(await text("h1"), "Overview");
  const cookie = (await page.cookies()).find((c) => c.name === "console_session");
  assert.ok(cookie.httpOnly);
  assert.equal(cookie.sameSite, "Strict");
  assert.equal(cookie.path, "/_console");
  state.cookie = cookie.value;
});

test("create a key: the secret is shown once, with a copy button; a reload shows it no more", async () => {
  await page.goto(`${server.consoleUrl}/keys/new`);
  await page.type("#f-owner_id", "acme");
  await page.type("#f-name", "Browser key");
  state.secret = await submitAndReadSecretOnce(page);
  const { body } = await server.admin("/keys?owner_id=acme");
  assert.equal(body.keys.length, 1, "the reload minted no second key");
  state.keyId = body.keys[0].id;
});

test("a form error is shown in the summary and beside its field", async () => {
  await page.goto(`${server.consoleUrl}/keys/new`);
  await page.type("#f-owner_id", "acme");
  await page.type("#f-ip_allowlist", "10.0.0.1/8");
  await Promise.all([page.waitForNavigation(), page.click("form.stack button[type=submit]")]);
  assert.match(await text(".error-summary"), /ip allowlist/);
  assert.ok(await page.$(".field.has-error #f-ip_allowlist"));
  assert.equal(await page.$eval("#f-owner_id", (i) => i.value), "acme", "what was typed is kept");
});

test("find the key in the list, by search", async () => {
  await page.goto(`${server.consoleUrl}/keys?q=Browser`);
  assert.ok(await page.$(`tr[data-key-id="${state.keyId}"]`));
  await page.goto(`${server.consoleUrl}/keys?q=no-such-key-name`);
  assert.equal(await page.$(`tr[data-key-id="${state.keyId}"]`), null);
});

test("the usage chart is drawn and its table matches the rollups", async () => {
  for (let i = 0; i < 3; i++)
    await (await fetch(`${server.base}/api/v1/x`, { headers: { "X-API-Key": state.secret } })).text();
  await (await fetch(`${server.base}/api/v1/x`, { method: "DELETE", headers: { "X-API-Key": state.secret } })).text();
  await server.runScheduled();
  const usage = (await server.admin(`/keys/${state.keyId}/usage`)).body;
  assert.equal(usage.total, 4);
  await page.goto(`${server.consoleUrl}/keys/${state.keyId}`);
  await page.waitForSelector("#key-usage.chart-drawn canvas");
  const painted = await page.$eval("#key-usage canvas", (canvas) => {
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) n++;
    return n;
  });
  assert.ok(painted > 100, `the canvas has ${painted} painted pixels`);
  const table = await page.$eval("#key-usage .chart-data table", (t) => ({
    columns: [...t.querySelectorAll("thead th")].slice(1).map((th) => th.textContent),
    rows: [...t.querySelectorAll("tbody tr")].map((tr) => [...tr.children].map((td) => td.textContent)),
  }));
  const expected = [...usage.days]
    .reverse()
    .map((d) => [d.day, ...table.columns.map((c) => String(d.outcomes[c === "admitted" ? "valid" : c] ?? 0))]);
  assert.deepEqual(table.rows, expected); // newest first
  assert.ok(table.columns.includes("insufficient_scope"));
});

test("rotate with a chosen grace: a new secret once, the old key works until its grace end", async () => {
  await page.goto(`${server.consoleUrl}/keys/${state.keyId}/rotate`);
  await page.click('input[name=grace_period_hours][value="1"]');
  await Promise.all([page.waitForNavigation(), page.click("form.stack button[type=submit]")]);
  const successor = await text("#new-secret");
  assert.notEqual(successor, state.secret);
  const old = (await server.admin(`/keys/${state.keyId}`)).body;
  assert.ok(old.rotated_to);
  const graceMs = Date.parse(old.grace_until) - Date.now();
  assert.ok(graceMs > 50 * 60_000 && graceMs <= 60 * 60_000, `grace ends in ${graceMs} ms`);
  state.successorId = old.rotated_to;
});

test("a forged CSRF token and a foreign Origin are refused, and nothing changes", async () => {
  await page.goto(`${server.consoleUrl}/keys/${state.keyId}`);
  await page.$eval('form[action$="/disable"] input[name=csrf]', (i) => {
    i.value = `${i.value.slice(0, -4)}AAAA`;
  });
  const [response] = await Promise.all([page.waitForNavigation(), page.click('form[action$="/disable"] button')]);
  assert.equal(response.status(), 403);
  assert.equal((await server.admin(`/keys/${state.keyId}`)).body.status, "active");

  await page.goto(`${server.consoleUrl}/keys/${state.keyId}`);
  const csrf = await page.$eval('form[action$="/disable"] input[name=csrf]', (i) => i.value);
  const cookie = (await page.cookies()).find((c) => c.name === "console_session").value;
  const foreign = await fetch(`${server.consoleUrl}/keys/${state.keyId}/disable`, {
    method: "POST",
    redirect: "manual",
    headers: {
      Cookie: `console_session=${cookie}`,
      Origin: "https://evil.example",
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ csrf }),
  });
  assert.equal(foreign.status, 403);
  assert.equal((await server.admin(`/keys/${state.keyId}`)).body.status, "active");
});

test("revoke with a reason; the audit trail shows each change", async () => {
  await page.goto(`${server.consoleUrl}/keys/${state.successorId}`);
  await Promise.all([page.waitForNavigation(), page.click('a[href$="/revoke"]')]);
  await page.type("#f-reason", "rotated out in the browser test");
  await Promise.all([page.waitForNavigation(), page.click("button.danger")]);
  assert.match(await text("h1 .badge"), /revoked/);
  const actions = await page.$$eval("table.audit tbody tr", (rows) => rows.map((r) => r.dataset.action));
  assert.deepEqual(actions, ["revoke", "rotate"]);
  assert.match(await text("table.audit tbody tr:first-child"), /rotated out in the browser test/);
  await page.goto(`${server.consoleUrl}/keys/${state.keyId}`);
  const oldActions = await page.$$eval("table.audit tbody tr", (rows) => rows.map((r) => r.dataset.action));
  assert.deepEqual(oldActions, ["rotate", "create"]);
});

test("signing out ends the session on the server: the old cookie is refused", async () => {
  const cookie = (await page.cookies()).find((c) => c.name === "console_session").value;
  await Promise.all([page.waitForNavigation(), page.click(".who button")]);
  assert.match(page.url(), /\/sign-in$/);
  const replayed = await fetch(`${server.consoleUrl}/keys`, {
    redirect: "manual",
    headers: { Cookie: `console_session=${cookie}` },
  });
  assert.equal(replayed.status, 303);
  assert.match(replayed.headers.get("Location"), /\/sign-in$/);
  const stale = await fetch(`${server.consoleUrl}/keys`, {
    redirect: "manual",
    headers: { Cookie: `console_session=${state.cookie}` },
  });
  assert.equal(stale.status, 303);
});
