/**
 * A browser-like client of the console (and, on its /portal path, the portal) through the real Worker: its
 * cookie jar, its Origin, its forms.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import { ADMIN_TOKEN, BASE } from "../helpers";

export const CONSOLE = "/_console";
/** The env of a deployment with the console (and so the portal) on its path prefix. */
export const consoleEnv = (overrides: Partial<Cloudflare.Env> = {}) =>
  ({ ...env, CONSOLE_PATH: CONSOLE, ...overrides }) as Cloudflare.Env;

/** A request through the Worker with the console on, its redirects not followed. */
export async function fetchWorker(path: string, init: RequestInit = {}, overrides: Partial<Cloudflare.Env> = {}) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`${BASE}${path}`, { ...init, redirect: "manual" }),
    consoleEnv(overrides),
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

/** The cookie jar and form posts a browser has, on the pages under `prefix`. */
export class FormClient {
  cookies = new Map<string, string>();
  constructor(
    readonly prefix: string,
    public overrides: Partial<Cloudflare.Env> = {},
  ) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0 && !headers.has("Cookie")) {
      headers.set("Cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    }
    const response = await fetchWorker(path, { ...init, headers }, this.overrides);
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const [name, value] = pair!.split("=");
      if (/Max-Age=0/i.test(line) || value === "") this.cookies.delete(name!);
      else this.cookies.set(name!, value!);
    }
    return response;
  }

  get(path: string) {
    return this.request(`${this.prefix}${path}`);
  }

  /** A form POST from the Worker's own origin (or `origin`; null: none). */
  post(path: string, fields: Record<string, string>, origin: string | null = BASE) {
    const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded" };
    if (origin !== null) headers.Origin = origin;
    return this.request(`${this.prefix}${path}`, {
      method: "POST",
      headers,
      body: new URLSearchParams(fields).toString(),
    });
  }

  /** The hidden fields of a page's first form (csrf, and form_id when it has one). */
  async formFields(path: string): Promise<{ csrf: string } & Record<string, string>> {
    const html = await (await this.get(path)).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
    if (!csrf) throw new Error(`no CSRF field on ${path}`);
    const formId = /name="form_id" value="([^"]+)"/.exec(html)?.[1];
    return formId ? { csrf, form_id: formId } : { csrf };
  }
}

export class ConsoleClient extends FormClient {
  constructor(overrides: Partial<Cloudflare.Env> = {}) {
    super(CONSOLE, overrides);
  }

  async signIn(token = ADMIN_TOKEN): Promise<Response> {
    return this.post("/sign-in", { token });
  }

  /** The CSRF token of a page's forms. */
  async csrf(path = "/keys"): Promise<string> {
    return (await this.formFields(path)).csrf;
  }
}
