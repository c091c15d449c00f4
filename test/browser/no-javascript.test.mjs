// The console with JavaScript switched off: every page works but the pictures. Sign in, create a key and read
// its secret (no copy button: it needs script), rotate, revoke with a reason; each chart's data table is there
// in place of the chart.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchBrowser, signIn, startConsoleServer } from "./harness.mjs";

let server;
let browser;
let page;
const state = {};

before(async () => {
  [server, browser] = await Promise.all([startConsoleServer(), launchBrowser()]);
  page = await browser.newPage();
  await page.setJavaScriptEnabled(false);
});
after(async () => {
  await browser?.close();
  server?.stop();
});

const text = (selector) => page.$eval(selector, (el) => el.textContent.trim());
const submit = (selector = "form.stack button[type=submit]") =>
  Promise.all([page.waitForNavigation(), page.click(selector)]);

test("signs in and shows the overview, its chart's data table in place of the picture", async () => {
  await signIn(page, server);
  assert.equal(await text("h1"), "Overview");
  assert.ok(await page.$(".chart-data table"), "the chart's table is served with the page");
  assert.equal(await page.$("canvas"), null, "no script, no picture");
});

test("creates a key and shows its secret once, without a copy button", async () => {
  await page.goto(`${server.consoleUrl}/keys/new`);
  await page.type("#f-owner_id", "no-js");
  await page.type("#f-name", "Key without script");
  await submit();
  state.secret = await text("#new-secret");
  assert.match(state.secret, /^sk_live_/);
  assert.equal(await page.$eval("button[data-copy]", (b) => b.hidden), true, "the copy button needs script");
  const { body } = await server.admin("/keys?owner_id=no-js");
  assert.equal(body.keys.length, 1);
  state.keyId = body.keys[0].id;
});

test("rotates with a chosen grace and revokes the successor with a reason", async () => {
  await page.goto(`${server.consoleUrl}/keys/${state.keyId}/rotate`);
  await page.click('input[name=grace_period_hours][value="1"]');
  await submit();
  assert.notEqual(await text("#new-secret"), state.secret);
  const old = (await server.admin(`/keys/${state.keyId}`)).body;
  assert.ok(old.rotated_to, "rotated");
  await page.goto(`${server.consoleUrl}/keys/${old.rotated_to}/revoke`);
  await page.type("#f-reason", "revoked without script");
  await submit("button.danger");
  const successor = (await server.admin(`/keys/${old.rotated_to}`)).body;
  assert.equal(successor.status, "revoked");
  assert.equal(successor.revoke_reason, "revoked without script");
});

test("a form error still shows its summary and the field's message", async () => {
  await page.goto(`${server.consoleUrl}/keys/new`);
  await page.type("#f-owner_id", "no-js");
  await page.type("#f-ip_allowlist", "not an address");
  await submit();
  assert.match(await text(".error-summary"), /ip allowlist/i);
  assert.ok(await page.$(".field.has-error #f-ip_allowlist"));
});
