/** A browser-like client of the console through the real Worker: its cookie jar, its Origin, its forms. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import { ADMIN_TOKEN, BASE } from "../helpers";

export const CONSOLE = "/_console";
/** The env of a deployment with the console on its path prefix. */
export const consoleEnv = (overrides: Partial<Cloudflare.Env> = {}) =>
  ({ ...env, CONSOLE_PATH: CONSOLE, ...overrides }) as Cloudflare.Env;

export class ConsoleClient {
  cookies = new Map<string, string>();
  constructor(public overrides: Partial<Cloudflare.Env> = {}) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0 && !headers.has("Cookie")) {
      headers.set("Cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    }
    const ctx = createExecutionContext();
    const response = await worker.fetch(
      new Request(`${BASE}${path}`, { ...init, headers, redirect: "manual" }),
      consoleEnv(this.overrides),
      ctx,
    );
    await waitOnExecutionContext(ctx);
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const [name, value] = pair!.split("=");
      if (/Max-Age=0/i.test(line) || value === "") this.cookies.delete(name!);
      else this.cookies.set(name!, value!);
    }
    return response;
  }

  get(path: string) {
    return this.request(`${CONSOLE}${path}`);
  }

  /** A form POST from the console's own origin (or `origin`). */
  post(path: string, fields: Record<string, string>, origin: string | null = BASE) {
    const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded" };
    if (origin !== null) headers.Origin = origin;
    return this.request(`${CONSOLE}${path}`, { method: "POST", headers, body: new URLSearchParams(fields).toString() });
  }

  async signIn(token = ADMIN_TOKEN): Promise<Response> {
    return this.post("/sign-in", { token });
  }

  /** The CSRF token of a page's forms. */
  async csrf(path = "/keys"): Promise<string> {
    const html = await (await this.get(path)).text();
    const match = /name="csrf" value="([^"]+)"/.exec(html);
    if (!match) throw new Error(`no CSRF field on ${path}`);
    return match[1]!;
  }
}
