// The browser tests' and `npm run screenshots`' shared setup: the Worker under `wrangler dev` on throwaway local
// state with the console on, and one headless Chromium (@sparticuz/chromium, under puppeteer-core) for the run.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import chromium from "@sparticuz/chromium";
import puppeteer from "puppeteer-core";
import { startDevServer } from "../cli/dev-server.mjs";

export const CONSOLE_PATH = "/_console";

/**
 * Chromium's own args plus what a closed network needs: without these it keeps trying background connections
 * (component updates, sync, field trials) that the machine refuses.
 */
const CLOSED_NETWORK_ARGS = [
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export async function launchBrowser() {
  return puppeteer.launch({
    executablePath: await chromium.executablePath(),
    // A locale of the machine's like "POSIX" reaches the page as "en-US@posix", which Intl (and so uPlot) refuses.
    args: [...chromium.args, ...CLOSED_NETWORK_ARGS, "--lang=en-US"],
    env: { ...process.env, LANG: "en_US.UTF-8", LANGUAGE: "en_US" },
    headless: true,
    defaultViewport: { width: 1280, height: 900 },
  });
}

/**
 * The Worker with the console under CONSOLE_PATH, a random admin token, and `/__scheduled` (so a test can run
 * the hourly job, which flushes usage into the rollups). Answers the server, the token and helpers.
 */
export async function startConsoleServer(vars = {}) {
  const token = randomBytes(24).toString("base64url");
  const server = await startDevServer(
    { ADMIN_TOKEN: token, CONSOLE_PATH, ...vars },
    { statePrefix: "authorizer-browser-", args: ["--test-scheduled"] },
  );
  const consoleUrl = `${server.base}${CONSOLE_PATH}`;
  /** A call of the admin API (to set up and to check what the console did), never what the console uses. */
  const admin = async (path, init = {}) => {
    const response = await fetch(`${server.base}/admin/v1${path}`, {
      method: init.json === undefined ? (init.method ?? "GET") : "POST",
      ...init,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...init.headers },
      body: init.json === undefined ? init.body : JSON.stringify(init.json),
    });
    const text = await response.text();
    return { status: response.status, body: text === "" ? null : JSON.parse(text) };
  };
  /** Runs the scheduled job now: the usage counted so far is written to the rollups. */
  const runScheduled = async () => {
    const response = await fetch(`${server.base}/__scheduled?cron=0+*+*+*+*`);
    await response.text();
    if (!response.ok) throw new Error(`__scheduled answered ${response.status}`);
  };
  return { ...server, token, consoleUrl, admin, runScheduled };
}

/** Signs the page in through the token form; resolves on the overview. */
export async function signIn(page, server) {
  await page.goto(`${server.consoleUrl}/sign-in`);
  await page.type("#f-token", server.token);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
}

/**
 * Submits the page's key form and reads the secret its answer shows once, with a visible copy button and the
 * warning; a reload of that answer (which resubmits the form) shows it no more. Resolves to the secret.
 */
export async function submitAndReadSecretOnce(page) {
  await Promise.all([page.waitForNavigation(), page.click("form.stack button[type=submit]")]);
  const secret = await page.$eval("#new-secret", (el) => el.textContent.trim());
  assert.match(secret, /^sk_live_/);
  assert.equal(await page.$eval("button[data-copy]", (b) => b.hidden), false);
  assert.match(await page.$eval(".notice.warning", (el) => el.textContent), /shown this once/);
  await Promise.all([page.waitForNavigation(), page.reload()]);
  assert.equal(await page.$("#new-secret"), null);
  assert.ok(!(await page.content()).includes(secret));
  return secret;
}
