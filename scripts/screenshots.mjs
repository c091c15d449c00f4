#!/usr/bin/env node
// `npm run screenshots`: the console's main pages and the consumer portal as PNGs in docs/screenshots/ (the README shows them). Starts the
// Worker on throwaway local state, fills it through the admin API and the gateway with a small made-up platform,
// and photographs each page in headless Chromium at 1280 px, and the key's page at 375 px.
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { launchBrowser, signIn, startConsoleServer } from "../test/browser/harness.mjs";

const OUT = resolve(import.meta.dirname, "../docs/screenshots");
mkdirSync(OUT, { recursive: true });

const [server, browser] = await Promise.all([
  startConsoleServer({ PLATFORM_NAME: "Acme API platform" }),
  launchBrowser(),
]);
try {
  const must = async (promise, what) => {
    const { status, body } = await promise;
    if (status >= 300) throw new Error(`${what}: ${status} ${JSON.stringify(body)}`);
    return body;
  };
  const consumers = [
    { id: "acme-corp", name: "Acme Corp", rate_limits: [{ name: "minute", limit: 600, window_seconds: 60 }] },
    { id: "globex", name: "Globex", key_policy: { max_active_keys: 5, allowed_scopes: ["read", "write"] } },
    { id: "initech", name: "Initech" },
  ];
  for (const c of consumers) await must(server.admin("/consumers", { json: c }), `consumer ${c.id}`);
  const keys = [];
  const specs = [
    ["acme-corp", "Checkout service", ["read", "write"], "live"],
    ["acme-corp", "Reporting job", ["read"], "live"],
    ["acme-corp", "Staging", ["read", "write"], "test"],
    ["globex", "Mobile app", ["read"], "live"],
    ["globex", "Partner sync", ["read", "write"], "live"],
    ["initech", "Data export", ["read"], "live"],
  ];
  for (const [owner_id, name, scopes, environment] of specs) {
    keys.push(await must(server.admin("/keys", { json: { owner_id, name, scopes, environment } }), name));
  }
  await must(server.admin(`/keys/${keys[5].key.id}/revoke`, { json: { reason: "employee left" } }), "revoke");
  await must(server.admin(`/keys/${keys[2].key.id}/disable`, { json: {} }), "disable");
  // Traffic: admissions, a write with a read-only key, a revoked key, a missing key.
  const call = (key, method = "GET") =>
    fetch(`${server.base}/api/v1/orders`, { method, headers: key ? { "X-API-Key": key } : {} }).then((r) => r.text());
  const plan = [
    [keys[0].api_key, "GET", 40],
    [keys[0].api_key, "POST", 12],
    [keys[1].api_key, "GET", 25],
    [keys[1].api_key, "DELETE", 6],
    [keys[3].api_key, "GET", 30],
    [keys[5].api_key, "GET", 4],
    [null, "GET", 5],
  ];
  for (const [key, method, n] of plan) for (let i = 0; i < n; i++) await call(key, method);
  // A leak: the built-in scanner found "Partner sync" in a commit, and it was revoked.
  const keyHash = createHash("sha256").update(keys[4].api_key).digest("hex");
  await must(
    server.admin("/leaks/scanner", {
      json: { findings: [{ key_hash: keyHash, location: "deploy/env.sh:7" }], revoke: true },
    }),
    "leak",
  );
  await server.runScheduled();

  const page = await browser.newPage();
  await signIn(page, server);
  const shots = [
    ["overview", "/"],
    ["keys", "/keys"],
    ["key", `/keys/${keys[0].key.id}`],
    ["consumers", "/consumers"],
    ["consumer", "/consumers/acme-corp"],
    ["leaks", "/leaks"],
    ["report", "/report"],
  ];
  for (const [name, path] of shots) {
    await page.goto(`${server.consoleUrl}${path}`);
    await page.evaluate(() => document.fonts.ready);
    if (await page.$("figure.chart")) await page.waitForSelector("figure.chart.chart-drawn");
    await page.screenshot({ path: resolve(OUT, `${name}.png`), fullPage: true });
    console.log(`docs/screenshots/${name}.png`);
  }
  await page.setViewport({ width: 375, height: 800, deviceScaleFactor: 2 });
  await page.goto(`${server.consoleUrl}/keys/${keys[0].key.id}`);
  await page.waitForSelector("figure.chart.chart-drawn");
  await page.screenshot({ path: resolve(OUT, "key-375px.png"), fullPage: false });
  console.log("docs/screenshots/key-375px.png");

  // The consumer portal, as acme-corp's user sees it after following a link from its platform.
  await page.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
  const link = await must(
    server.admin("/portal/sessions", {
      json: { consumer_id: "acme-corp", return_url: "https://app.acme.example/settings" },
    }),
    "portal link",
  );
  await page.goto(link.url);
  await page.evaluate(() => document.fonts.ready);
  await page.waitForSelector("figure.chart.chart-drawn");
  await page.screenshot({ path: resolve(OUT, "portal.png"), fullPage: true });
  console.log("docs/screenshots/portal.png");
} finally {
  await browser.close();
  server.stop();
}
