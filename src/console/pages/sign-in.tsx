/**
 * Signing in and out. The token form is offered only when CONSOLE_TOKEN_SIGNIN is on; Access sign-in reads
 * the request's Access JWT (Access itself sits in front of the console's host). Every attempt is recorded
 * (console_sign_ins) and logged, never with what was typed; failures are throttled per address.
 */
import { log } from "../../util/log";
import { clock } from "../../util/clock";
import { actorName, type AdminActor } from "../../operations/actor";
import { type ConsoleContext, ConsoleRefusal, href } from "../context";
import { readForm, readProtectedForm } from "../forms";
import { ErrorSummary, Field, type FieldError } from "../layout";
import { tokenActor } from "../../admin/auth";
import { accessSignIn, tokenFingerprint } from "../principal";
import { page } from "../render";
import { endSession, startSession } from "../session";
import { recordSignIn, type SignInMethod, type SignInOutcome } from "../session-store";
import { recordSignInFailure, signInClient, signInThrottledUntil } from "../sign-in-throttle";

function SignInForm(props: { c: ConsoleContext; errors: FieldError[]; accessAvailable: boolean }) {
  const { c, errors } = props;
  return (
    <section class="panel" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in to the console</h1>
      <p class="lede">Manage API keys, consumers, alerts and leaks.</p>
      {props.accessAvailable ? (
        <p>
          <a class="button" href={href(c, "/sign-in/access")}>
            Continue with Cloudflare Access
          </a>
        </p>
      ) : null}
      {c.var.tokenSignIn ? (
        <form method="post" action={href(c, "/sign-in")} class="stack" novalidate>
          <ErrorSummary errors={errors} />
          <Field
            name="token"
            label="Admin token"
            hint="The ADMIN_TOKEN secret. It is checked once and never stored; the session remembers only a fingerprint."
            errors={errors}
          >
            <input type="password" id="f-token" name="token" autocomplete="current-password" required />
          </Field>
          <div>
            <button type="submit">Sign in</button>
          </div>
        </form>
      ) : props.accessAvailable ? null : (
        <p class="notice warning">
          No sign-in is configured: set up Cloudflare Access (ACCESS_TEAM_DOMAIN, ACCESS_AUD) or CONSOLE_TOKEN_SIGNIN.
        </p>
      )}
    </section>
  );
}

const accessAvailable = (c: ConsoleContext) =>
  (c.env.ACCESS_TEAM_DOMAIN ?? "") !== "" && (c.env.ACCESS_AUD ?? "") !== "";

export function signInPage(c: ConsoleContext, errors: FieldError[] = [], status = 200) {
  return page(
    c,
    { title: "Sign in", active: "", status },
    <SignInForm c={c} errors={errors} accessAvailable={accessAvailable(c)} />,
  );
}

async function audit(
  c: ConsoleContext,
  method: SignInMethod,
  outcome: SignInOutcome,
  actor: AdminActor | null,
  client: string,
) {
  const at = clock.now();
  await recordSignIn(c.env.DB, {
    at,
    kind: "console",
    method,
    outcome,
    actor: actor === null ? null : actorName(actor),
    client,
    requestId: c.var.requestId,
  });
  log(outcome === "signed_in" ? "info" : "warn", "console.sign_in", {
    request_id: c.var.requestId,
    via: method,
    code: outcome,
    actor: actor === null ? undefined : actorName(actor),
  });
}

/** POST /sign-in: the admin token form. */
export async function signInWithToken(c: ConsoleContext): Promise<Response> {
  if (!c.var.tokenSignIn) throw new ConsoleRefusal(404, "Not found", "Token sign-in is off (CONSOLE_TOKEN_SIGNIN).");
  const fields = await readForm(c);
  const client = signInClient(c.req.header("CF-Connecting-IP") ?? null);
  const now = clock.now();
  if (signInThrottledUntil(client, now) !== null) {
    await audit(c, "token", "throttled", null, client);
    c.header("Retry-After", String(Math.ceil(((signInThrottledUntil(client, now) ?? now) - now) / 1000)));
    return signInPage(
      c,
      [{ path: "token", message: "Too many failed attempts from your address. Try again later." }],
      429,
    );
  }
  const actor = await tokenActor(c.env, fields.token ?? "");
  if (actor === null) {
    recordSignInFailure(client, now);
    await audit(c, "token", "refused", null, client);
    return signInPage(c, [{ path: "token", message: "That is not a valid admin token." }], 401);
  }
  const token =
    actor.kind === "admin_token" && actor.token === "ADMIN_TOKEN_NEXT" ? c.env.ADMIN_TOKEN_NEXT! : c.env.ADMIN_TOKEN!;
  await startSession(c, "console", actor, { credentialFingerprint: await tokenFingerprint(token) });
  await audit(c, "token", "signed_in", actor, client);
  return c.redirect(href(c, "/"), 303);
}

/**
 * GET /sign-in/access: a session for the identity Access admitted (the JWT of the admin API's check), with the
 * grant ACCESS_POLICY maps it to (the admin API's mapping, src/admin/access-policy.ts).
 */
export async function signInWithAccess(c: ConsoleContext): Promise<Response> {
  const client = signInClient(c.req.header("CF-Connecting-IP") ?? null);
  const actor = await accessSignIn(c.env, c.req.header("Cf-Access-Jwt-Assertion"));
  if (actor === null) {
    await audit(c, "access", "refused", null, client);
    return signInPage(
      c,
      [{ path: "", message: "Cloudflare Access did not identify you, or ACCESS_POLICY does not name you." }],
      401,
    );
  }
  await startSession(c, "console", actor);
  await audit(c, "access", "signed_in", actor, client);
  return c.redirect(href(c, "/"), 303);
}

/** POST /sign-out: the session is deleted on the server; its cookie is refused from now on. */
export async function signOut(c: ConsoleContext): Promise<Response> {
  await readProtectedForm(c);
  await endSession(c, "console");
  return c.redirect(href(c, "/sign-in"), 303);
}
