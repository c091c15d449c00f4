/**
 * The console: the Hono app the entry hands every request under the console's host or prefix
 * (src/index.ts). Routes are written from "/"; `getPath` strips the prefix, so one app serves either mount.
 * Pages are one file each under ./pages; every one behind sign-in but the assets and the sign-in itself.
 */
import { Hono } from "hono";
import { type Refusal, refusalOf } from "./refusal";
import { loadConsoleConfig } from "../config";
import { RESERVED_FIRST_SEGMENTS } from "../reserved-paths";
import { serveAsset } from "./assets/serve";
import { type ConsoleContext, type ConsoleEnv, ConsoleRefusal, href } from "./context";
import { securityHeaders } from "./headers";
import { alertsPage } from "./pages/alerts";
import { auditPage } from "./pages/audit";
import { consumerPage, consumerStatusAction, revokeConsumerKeysAction, revokeConsumerKeysPage } from "./pages/consumer";
import { consumersPage } from "./pages/consumers";
import { createCredentialAction, credentialsPage, revokeCredentialAction } from "./pages/credentials";
import { createKeyAction, newKeyPage } from "./pages/key-new";
import { editKeyAction, editKeyPage } from "./pages/key-edit";
import { keyPage, keyStatusAction } from "./pages/key";
import { revokeKeyAction, revokeKeyPage } from "./pages/key-revoke";
import { rotateKeyAction, rotateKeyPage } from "./pages/key-rotate";
import { keysPage } from "./pages/keys";
import { leaksPage } from "./pages/leaks";
import { overviewPage } from "./pages/overview";
import { reportPage } from "./pages/report";
import { signInPage, signInWithAccess, signInWithToken, signOut } from "./pages/sign-in";
import { currentActor, principalOf } from "./principal";
import { page } from "./render";
import { loadSession } from "./session";
import { PORTAL_PATH } from "../portal/paths";
import type { AdminActor } from "../operations/actor";

/** The console's prefix for this env ("" on a host of its own). */
const prefixOf = (env: Cloudflare.Env | undefined) =>
  env ? (loadConsoleConfig(env, RESERVED_FIRST_SEGMENTS)?.mount.prefix ?? "") : "";

export const consoleApp = new Hono<ConsoleEnv>({
  getPath(request, options) {
    const path = new URL(request.url).pathname;
    const prefix = prefixOf(options?.env as Cloudflare.Env | undefined);
    const rest = path.slice(prefix.length);
    return rest === "" ? "/" : rest;
  },
});

consoleApp.use(async function consoleContext(c, next) {
  c.set("requestId", crypto.randomUUID());
  c.set("base", prefixOf(c.env));
  c.set("tokenSignIn", loadConsoleConfig(c.env, RESERVED_FIRST_SEGMENTS)?.tokenSignIn ?? false);
  await next();
});
consoleApp.use(securityHeaders());

// The consumers' portal: an app of its own, with its own sessions and cookie (src/portal/app.tsx).
const toPortal = (c: ConsoleContext) =>
  import("../portal/app").then(({ portalApp }) => portalApp.fetch(c.req.raw, c.env, c.executionCtx));
consoleApp.all(PORTAL_PATH, toPortal);
consoleApp.all(`${PORTAL_PATH}/*`, toPortal);
consoleApp.get("/assets/:name", (c) => serveAsset(c.req.param("name")));
consoleApp.get("/sign-in", (c) => signInPage(c));
consoleApp.post("/sign-in", signInWithToken);
consoleApp.get("/sign-in/access", signInWithAccess);

// Everything below needs a console session whose credential still holds.
// The actor is worked out afresh (a rotated token or a changed ACCESS_POLICY applies at once).
consoleApp.use(
  loadSession("console", async (c, session) => {
    const actor = await currentActor(c.env, session, c.req.header("Cf-Access-Jwt-Assertion"));
    if (actor) session.actor = actor;
    return actor !== null;
  }),
);
consoleApp.use(async function requireSignIn(c, next) {
  const session = c.var.session;
  if (!session) {
    if (c.req.method === "GET" || c.req.method === "HEAD") return c.redirect(href(c, "/sign-in"), 303);
    throw new ConsoleRefusal(403, "Sign in first", "Your session has ended. Sign in again.");
  }
  c.set("principal", principalOf(session.actor as AdminActor));
  await next();
});

consoleApp.post("/sign-out", signOut);
consoleApp.get("/", overviewPage);
consoleApp.get("/keys", keysPage);
consoleApp.get("/keys/new", (c) => newKeyPage(c));
consoleApp.post("/keys/new", createKeyAction);
consoleApp.get("/keys/:id", keyPage);
consoleApp.post("/keys/:id/disable", keyStatusAction("disable"));
consoleApp.post("/keys/:id/enable", keyStatusAction("enable"));
consoleApp.get("/keys/:id/edit", (c) => editKeyPage(c));
consoleApp.post("/keys/:id/edit", editKeyAction);
consoleApp.get("/keys/:id/rotate", (c) => rotateKeyPage(c));
consoleApp.post("/keys/:id/rotate", rotateKeyAction);
consoleApp.get("/keys/:id/revoke", (c) => revokeKeyPage(c));
consoleApp.post("/keys/:id/revoke", revokeKeyAction);
consoleApp.get("/consumers", consumersPage);
consoleApp.get("/consumers/:id", consumerPage);
consoleApp.post("/consumers/:id/disable", consumerStatusAction("disable"));
consoleApp.post("/consumers/:id/enable", consumerStatusAction("enable"));
consoleApp.get("/consumers/:id/revoke-keys", revokeConsumerKeysPage);
consoleApp.post("/consumers/:id/revoke-keys", revokeConsumerKeysAction);
consoleApp.get("/credentials", (c) => credentialsPage(c));
consoleApp.post("/credentials", createCredentialAction);
consoleApp.post("/credentials/:id/revoke", revokeCredentialAction);
consoleApp.get("/alerts", alertsPage);
consoleApp.get("/leaks", leaksPage);
consoleApp.get("/audit", auditPage);
consoleApp.get("/report", reportPage);
consoleApp.all("*", () => {
  throw new ConsoleRefusal(404, "Page not found", "There is no console page at this address.");
});

function refusalPage(c: ConsoleContext, { status, title, detail }: Refusal) {
  return page(
    c,
    { title, active: "", status },
    <section class="panel">
      <h1>{title}</h1>
      <p>{detail}</p>
      <p>
        <a href={href(c, "/")}>Back to the overview</a>
      </p>
    </section>,
  );
}

consoleApp.onError(function consoleError(error, c) {
  return refusalPage(c, refusalOf(error, { requestId: c.var.requestId, method: c.req.method }, "console"));
});
