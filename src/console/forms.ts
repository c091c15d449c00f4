/**
 * Reading a console form: the `Origin` check every POST passes, the CSRF token every state-changing form
 * carries (compared in constant time with the session's), and the fields as the operations' schemas expect.
 */
import type { Context } from "hono";
import { secretsEqual } from "../util/secrets";
import { ConsoleRefusal } from "./context";
import type { SessionEnv } from "./session";
import type { FieldError } from "./layout";
import { ProblemError } from "../http/problem";

/** The most a console form may send: forms are small; this bounds what a hostile one costs. */
const MAX_FORM_BYTES = 64 * 1024;

/**
 * 403 unless the POST comes from the console's own pages. Its `Origin` must be the console's, or, because
 * the pages' `Referrer-Policy: no-referrer` makes browsers send `Origin: null` on their own form posts, "null"
 * together with `Sec-Fetch-Site: same-origin` (which the browser sets and no page can). A cross-site form
 * carries its site's Origin or `Sec-Fetch-Site: cross-site`; a POST with neither header is refused.
 */
function requireSameOrigin<E extends SessionEnv>(c: Context<E>): void {
  const origin = c.req.header("Origin");
  // The host the browser addressed (its Host header; the URL's on Cloudflare, where the two are the same, but
  // `wrangler dev` rewrites the URL's host).
  const url = new URL(c.req.url);
  const expected = `${url.protocol}//${c.req.header("Host") ?? url.host}`;
  const sameOrigin = origin === expected || (origin === "null" && c.req.header("Sec-Fetch-Site") === "same-origin");
  if (!sameOrigin) throw new ConsoleRefusal(403, "Request refused", "This form was sent from another site.");
}

export type FormFields = Record<string, string>;

/** The posted fields (the last value of a repeated one), after the Origin check. */
export async function readForm<E extends SessionEnv>(c: Context<E>): Promise<FormFields> {
  requireSameOrigin(c);
  const length = Number(c.req.header("Content-Length") ?? "0");
  if (length > MAX_FORM_BYTES) throw new ConsoleRefusal(400, "Form too large", "The form sent too much.");
  const type = c.req.header("Content-Type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded")) {
    throw new ConsoleRefusal(400, "Bad form", "Forms are sent as application/x-www-form-urlencoded.");
  }
  const text = await c.req.text();
  if (text.length > MAX_FORM_BYTES) throw new ConsoleRefusal(400, "Form too large", "The form sent too much.");
  return Object.fromEntries(new URLSearchParams(text));
}

/**
 * The fields of a state-changing form: Origin checked, then its CSRF token against the session's (the
 * console's or the portal's).
 */
export async function readProtectedForm<E extends SessionEnv>(c: Context<E>): Promise<FormFields> {
  const fields = await readForm(c);
  const s = c.var.session;
  if (!s) throw new ConsoleRefusal(403, "Sign in first", "Your session has ended.");
  const expected = s.csrfToken;
  if (!(await secretsEqual(fields.csrf ?? "", expected))) {
    throw new ConsoleRefusal(
      403,
      "Form expired",
      "This form's security token is not valid. Reload the page and try again.",
    );
  }
  return fields;
}

/** A list typed one per line or separated by commas: scopes, allowlists, routes. */
export function listField(text: string | undefined): string[] {
  return (text ?? "")
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** An integer field: the number, undefined when empty, or the text itself (the schema then names the error). */
export function intField(text: string | undefined): number | string | undefined {
  const t = (text ?? "").trim();
  if (t === "") return undefined;
  return /^-?\d+$/.test(t) ? Number(t) : t;
}

/** The field errors of an operation's refusal, or null if it is no refusal a form shows beside its fields. */
export function fieldErrorsOf(error: unknown): FieldError[] | null {
  if (!(error instanceof ProblemError)) return null;
  const extra = error.options.extra ?? {};
  if (error.code === "invalid_request" && Array.isArray(extra.errors)) return extra.errors as FieldError[];
  if (error.code === "key_policy_violation" || error.code === "consumer_state_conflict") {
    return [{ path: "", message: String(extra.detail ?? error.code) }];
  }
  if (error.code === "key_state_conflict")
    return [{ path: "", message: "The key's state does not allow this change." }];
  return null;
}
