/**
 * GET /link/{token}: the first visit of a portal link. The token is spent (single use, before its end) and
 * exchanged for a portal session that ends when the link would have; the answer is a 303 to the portal's
 * clean URL, so the token leaves the address bar and the history at once (and Referrer-Policy: no-referrer
 * keeps it out of every request the page makes). A used, lapsed or unknown token opens nothing, and says so.
 * Attempts are throttled per client address as the console's sign-in is, and recorded (never the token).
 */
import { startSession } from "../../console/session";
import { recordSignIn } from "../../console/session-store";
import { recordSignInFailure, signInClient, signInThrottledUntil } from "../../console/sign-in-throttle";
import { findConsumerById } from "../../consumers/store";
import type { PortalActor } from "../../operations/actor";
import { actorName } from "../../operations/actor";
import { clock } from "../../util/clock";
import { log } from "../../util/log";
import { href, type PortalContext } from "../context";
import { spendPortalLink } from "../link-store";
import { page } from "../render";

/** A token as links carry it: 32 random bytes, base64url. Anything else is refused unread. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

function refused(c: PortalContext, status: 403 | 429, detail: string) {
  return page(
    c,
    { title: "This link cannot be used", active: "", status },
    <section class="panel">
      <h1>This link cannot be used</h1>
      <p>{detail}</p>
    </section>,
  );
}

export async function openLink(c: PortalContext): Promise<Response> {
  // Hono answers HEAD with the GET route; a link checker's HEAD must not spend the link its user will follow.
  if (c.req.method === "HEAD") return c.body(null, 204);
  const now = clock.now();
  const client = signInClient(c.req.header("CF-Connecting-IP") ?? null);
  const record = async (outcome: "signed_in" | "refused" | "throttled", actor: string | null) => {
    await recordSignIn(c.env.DB, {
      at: now,
      kind: "portal",
      method: "link",
      outcome,
      actor,
      client,
      requestId: c.var.requestId,
    });
    // As the console's sign-in line; never the token, nor the path that holds it.
    log(outcome === "signed_in" ? "info" : "warn", "portal.sign_in", {
      request_id: c.var.requestId,
      via: "link",
      code: outcome,
      actor: actor ?? undefined,
    });
  };
  if (signInThrottledUntil(client, now) !== null) {
    await record("throttled", null);
    return refused(c, 429, "Too many links that could not be used came from your address. Try again later.");
  }
  const token = c.req.param("token") ?? "";
  const link = TOKEN_PATTERN.test(token) ? await spendPortalLink(c.env.DB, token, now) : null;
  const found = link && (await findConsumerById(c.env.DB, link.consumerId));
  if (!link || !found || found.record.status === "deleted") {
    recordSignInFailure(client, now);
    await record("refused", null);
    return refused(
      c,
      403,
      "A portal link works once, for a short time. Go back to your platform and open the portal again.",
    );
  }
  const actor: PortalActor = { kind: "portal", consumerId: link.consumerId, linkId: link.id };
  await startSession(c, "portal", actor, { expiresAt: link.expiresAt });
  await record("signed_in", actorName(actor));
  return c.redirect(href(c, "/"), 303);
}
