/**
 * The consumers' self-service portal: the Hono app the console hands every request under its `/portal` path
 * (src/console/app.tsx). Routes are written from "/"; `getPath` strips the console's prefix and /portal.
 * Every page needs a portal session, opened only by a one-time link (POST /admin/v1/portal/sessions); its
 * cookie is the portal's own (`portal_session`, Path=<prefix>/portal): a console session opens nothing here,
 * and a portal session nothing in the console or the admin API.
 */
import { Hono } from "hono";
import { type Refusal, refusalOf } from "../console/refusal";
import { loadConsoleConfig } from "../config";
import { serveAsset } from "../console/assets/serve";
import { ConsoleRefusal } from "../console/context";
import { securityHeaders } from "../console/headers";
import { loadSession } from "../console/session";
import { endSession } from "../console/session";
import { readProtectedForm } from "../console/forms";
import { findConsumerById } from "../consumers/store";
import { RESERVED_FIRST_SEGMENTS } from "../reserved-paths";
import type { PortalContext, PortalEnv } from "./context";
import { findReturnUrl } from "./link-store";
import { activityPage } from "./pages/activity";
import { keyPage } from "./pages/key";
import { createKeyAction, newKeyPage } from "./pages/key-new";
import { revokeKeyAction, revokeKeyPage } from "./pages/key-revoke";
import { rotateKeyAction, rotateKeyPage } from "./pages/key-rotate";
import { openLink } from "./pages/link";
import { overviewPage } from "./pages/overview";
import { LINK_PATH, PORTAL_PATH } from "./paths";
import { page } from "./render";

/** The portal's prefix for this env: the console's, then /portal. */
const prefixOf = (env: Cloudflare.Env | undefined) =>
  `${env ? (loadConsoleConfig(env, RESERVED_FIRST_SEGMENTS)?.mount.prefix ?? "") : ""}${PORTAL_PATH}`;

export const portalApp = new Hono<PortalEnv>({
  getPath(request, options) {
    const path = new URL(request.url).pathname;
    const rest = path.slice(prefixOf(options?.env as Cloudflare.Env | undefined).length);
    return rest === "" ? "/" : rest;
  },
});

portalApp.use(async function portalContext(c, next) {
  c.set("requestId", crypto.randomUUID());
  c.set("base", prefixOf(c.env));
  await next();
});
portalApp.use(securityHeaders());

portalApp.get("/assets/:name", (c) => serveAsset(c.req.param("name")));
portalApp.get(`${LINK_PATH}/:token`, openLink);

// Everything below needs a portal session whose consumer still exists; it is read afresh at every request,
// so a consumer disabled meanwhile gets a read-only portal at once.
portalApp.use(
  loadSession<PortalEnv>("portal", async (c, session) => {
    if (session.actor.kind !== "portal") return false;
    const [found, returnUrl] = await Promise.all([
      findConsumerById(c.env.DB, session.actor.consumerId),
      findReturnUrl(c.env.DB, session.actor.linkId),
    ]);
    if (!found || found.record.status === "deleted") return false;
    c.set("consumer", found.record);
    c.set("returnUrl", returnUrl);
    return true;
  }),
);
portalApp.use(async function requirePortalSession(c, next) {
  if (!c.var.session) {
    throw new ConsoleRefusal(
      403,
      "Your session has ended",
      "Go back to your platform and open the portal from there again.",
    );
  }
  await next();
});

portalApp.post("/sign-out", async (c) => {
  await readProtectedForm(c);
  const back = c.var.returnUrl;
  await endSession(c, "portal");
  c.set("session", undefined);
  c.set("consumer", undefined);
  return page(
    c,
    { title: "Signed out", active: "" },
    <section class="panel">
      <h1>You have left the portal</h1>
      <p>Your session has ended. Open the portal from your platform to come back.</p>
      {back ? (
        <p>
          <a href={back}>Back to {new URL(back).host}</a>
        </p>
      ) : null}
    </section>,
  );
});
portalApp.get("/", overviewPage);
portalApp.get("/activity", activityPage);
portalApp.get("/keys/new", (c) => newKeyPage(c));
portalApp.post("/keys/new", createKeyAction);
portalApp.get("/keys/:id", keyPage);
portalApp.get("/keys/:id/rotate", (c) => rotateKeyPage(c));
portalApp.post("/keys/:id/rotate", rotateKeyAction);
portalApp.get("/keys/:id/revoke", (c) => revokeKeyPage(c));
portalApp.post("/keys/:id/revoke", revokeKeyAction);
portalApp.all("*", () => {
  throw new ConsoleRefusal(404, "Page not found", "There is no portal page at this address.");
});

function refusalPage(c: PortalContext, { status, title, detail }: Refusal) {
  return page(
    c,
    { title, active: "", status },
    <section class="panel">
      <h1>{title}</h1>
      <p>{detail}</p>
    </section>,
  );
}

portalApp.onError(function portalError(error, c) {
  return refusalPage(c, refusalOf(error, { requestId: c.var.requestId, method: c.req.method }, "portal"));
});
