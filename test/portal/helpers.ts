/**
 * The portal through the real Worker, with the console on its path prefix: a browser-like client with its
 * cookie jar, its Origin and its forms, and portal links opened through the real admin API.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import { ADMIN_TOKEN, BASE } from "../helpers";

export const CONSOLE = "/_console";
export const PORTAL = `${CONSOLE}/portal`;
export const portalEnv = (overrides: Partial<Cloudflare.Env> = {}) =>
  ({ ...env, CONSOLE_PATH: CONSOLE, ...overrides }) as Cloudflare.Env;

/** A request through the Worker with the console (and so the portal) on. */
export async function fetchWorker(path: string, init: RequestInit = {}, overrides: Partial<Cloudflare.Env> = {}) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`${BASE}${path}`, { ...init, redirect: "manual" }),
    portalEnv(overrides),
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

/** POST /admin/v1/portal/sessions with the admin token (or `token`). */
export function openPortal(
  body: Record<string, unknown>,
  token = ADMIN_TOKEN,
  overrides: Partial<Cloudflare.Env> = {},
) {
  return fetchWorker(
    "/admin/v1/portal/sessions",
    {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    },
    overrides,
  );
}

/** A link's path on this Worker (its URL without the origin). */
export async function portalLink(consumerId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await openPortal({ consumer_id: consumerId, ...extra });
  if (response.status !== 201) throw new Error(`portal link refused: ${response.status} ${await response.text()}`);
  const { url } = (await response.json()) as { url: string };
  return new URL(url).pathname;
}

export class PortalClient {
  cookies = new Map<string, string>();

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0 && !headers.has("Cookie")) {
      headers.set("Cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    }
    const response = await fetchWorker(path, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const [name, value] = pair!.split("=");
      if (/Max-Age=0/i.test(line) || value === "") this.cookies.delete(name!);
      else this.cookies.set(name!, value!);
    }
    return response;
  }

  /** Opens a link: answers the exchange's response (a 303 to the clean URL when it works). */
  open(linkPath: string) {
    return this.request(linkPath);
  }

  get(path: string) {
    return this.request(`${PORTAL}${path}`);
  }

  /** A form POST from the portal's own origin (or `origin`; null: none). */
  post(path: string, fields: Record<string, string>, origin: string | null = BASE) {
    const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded" };
    if (origin !== null) headers.Origin = origin;
    return this.request(`${PORTAL}${path}`, { method: "POST", headers, body: new URLSearchParams(fields).toString() });
  }

  /** The hidden fields of a page's first form (csrf, form_id). */
  async formFields(path: string): Promise<{ csrf: string } & Record<string, string>> {
    const html = await (await this.get(path)).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
    if (!csrf) throw new Error(`no CSRF field on ${path}`);
    const formId = /name="form_id" value="([^"]+)"/.exec(html)?.[1];
    return formId ? { csrf, form_id: formId } : { csrf };
  }
}

/** A client with a portal session for this consumer. */
export async function signedInPortal(consumerId: string, extra: Record<string, unknown> = {}): Promise<PortalClient> {
  const client = new PortalClient();
  const response = await client.open(await portalLink(consumerId, extra));
  if (response.status !== 303) throw new Error(`portal link did not open: ${response.status}`);
  return client;
}
