/** Console sessions: opt-in serving, sign-in, cookies, expiry on the clock, sign-out, token rotation, throttling. */
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, callWith, mintKey } from "../helpers";
import { testClock } from "../clock";
import { MINUTE_MS } from "../../src/util/time";
import { currentLines } from "../logs";
import { CONSOLE, ConsoleClient } from "./helpers";

describe("serving", () => {
  it("is off unless CONSOLE_PATH or CONSOLE_HOSTNAME is set: the path is the origin's", async () => {
    const response = await callWith({}, `${CONSOLE}/sign-in`);
    expect(response.status).toBe(401); // the gateway's missing_api_key, not a console page
    expect(response.headers.get("Content-Type")).toBe("application/problem+json");
  });

  it("takes only its own prefix: a longer first segment is still the origin's", async () => {
    const response = await callWith({ CONSOLE_PATH: CONSOLE }, `${CONSOLE}x/sign-in`);
    expect(response.status).toBe(401);
  });

  it("serves every path of its own hostname, and nothing of it reaches the gateway", async () => {
    const host = { CONSOLE_HOSTNAME: "keys.authorizer.test" };
    const worker = (await import("../../src/index")).default;
    const fetchHost = (path: string) =>
      worker.fetch(
        new Request(`https://keys.authorizer.test${path}`, { redirect: "manual" }),
        { ...env, ...host } as Cloudflare.Env,
        createExecutionContext(),
      );
    const own = await fetchHost("/sign-in");
    expect(own.status).toBe(200);
    expect(await own.text()).toContain("Sign in to the console");
    const other = await fetchHost("/api/v1/x");
    expect(other.status).toBe(303); // the console's (sign in first), never the gateway's 401
    expect(other.headers.get("Location")).toBe("/sign-in");
    expect((await callWith(host, "/sign-in")).status).toBe(401); // the API's host: still the gateway
  });

  it.each([
    ["a reserved segment", { CONSOLE_PATH: "/admin" }],
    ["a nested path", { CONSOLE_PATH: "/a/b" }],
    ["both settings", { CONSOLE_PATH: CONSOLE, CONSOLE_HOSTNAME: "keys.authorizer.test" }],
    ["a bad CONSOLE_TOKEN_SIGNIN", { CONSOLE_PATH: CONSOLE, CONSOLE_TOKEN_SIGNIN: "yes" }],
  ])("stays off with %s, and nothing else changes", async (_, settings) => {
    expect((await callWith(settings, `${CONSOLE}/sign-in`)).status).toBe(401); // the gateway's
    expect((await callWith(settings, "/admin/sign-in")).headers.get("Content-Type")).toBe("application/problem+json");
    expect(currentLines().some((l) => l.includes('"config.invalid"') && l.includes("CONSOLE_PATH"))).toBe(true);
  });

  it("answers every page with the strict headers", async () => {
    const response = await new ConsoleClient().get("/sign-in");
    expect(response.status).toBe(200);
    const csp = response.headers.get("Content-Security-Policy")!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const html = await response.text();
    expect(html).not.toMatch(/<script>|<script(?![^>]*src=)[^>]*>|style="/);
  });

  it("serves its assets under its prefix, cached for good, and nothing else", async () => {
    const client = new ConsoleClient();
    const html = await (await client.get("/sign-in")).text();
    const css = /href="(\/_console\/assets\/console\.[0-9a-f]{12}\.css)"/.exec(html)![1]!;
    const asset = await client.request(css);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("Content-Type")).toBe("text/css; charset=utf-8");
    expect(asset.headers.get("Cache-Control")).toContain("immutable");
    expect((await client.get("/assets/../../admin")).status).not.toBe(200);
    expect((await client.get("/assets/nothing.js")).status).toBe(404);
  });
});

describe("signing in", () => {
  it("opens a session with a fresh id in an HttpOnly, SameSite=Strict, Secure cookie scoped to the prefix", async () => {
    const client = new ConsoleClient();
    client.cookies.set("console_session", "A".repeat(43)); // a planted id is never promoted
    const response = await client.signIn();
    expect(response.status).toBe(303);
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith("console_session="))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/Path=\/_console/);
    expect(client.cookies.get("console_session")).not.toBe("A".repeat(43));
    expect((await client.get("/keys")).status).toBe(200);
    const row = await env.DB.prepare("SELECT * FROM console_sessions").first<Record<string, unknown>>();
    expect(JSON.stringify(row)).not.toContain(client.cookies.get("console_session"));
    expect(JSON.stringify(row)).not.toContain(ADMIN_TOKEN);
  });

  it("refuses a wrong token, records the attempt without it, and throttles the address", async () => {
    const client = new ConsoleClient();
    for (let i = 0; i < 5; i++) {
      const refused = await client.request(`${CONSOLE}/sign-in`, {
        method: "POST",
        headers: {
          Origin: "https://authorizer.test",
          "Content-Type": "application/x-www-form-urlencoded",
          "CF-Connecting-IP": "203.0.113.9",
        },
        body: "token=wrong-guess-123",
      });
      expect(refused.status).toBe(401);
    }
    const throttled = await client.request(`${CONSOLE}/sign-in`, {
      method: "POST",
      headers: {
        Origin: "https://authorizer.test",
        "Content-Type": "application/x-www-form-urlencoded",
        "CF-Connecting-IP": "203.0.113.9",
      },
      body: `token=${ADMIN_TOKEN}`,
    });
    expect(throttled.status).toBe(429);
    expect(client.cookies.has("console_session")).toBe(false);
    const { results } = await env.DB.prepare(
      "SELECT outcome, client, actor FROM console_sign_ins WHERE client = '203.0.113.9' ORDER BY id",
    ).all();
    expect(results.map((r) => r.outcome)).toEqual(["refused", "refused", "refused", "refused", "refused", "throttled"]);
    expect(JSON.stringify(results)).not.toContain("wrong-guess");
    testClock.advance(16 * MINUTE_MS);
  });

  it("refuses a sign-in form posted from another origin", async () => {
    const client = new ConsoleClient();
    expect((await client.post("/sign-in", { token: ADMIN_TOKEN }, "https://evil.example")).status).toBe(403);
    expect((await client.post("/sign-in", { token: ADMIN_TOKEN }, null)).status).toBe(403);
    expect(client.cookies.has("console_session")).toBe(false);
  });

  it("takes Origin: null (what no-referrer pages send) only with Sec-Fetch-Site: same-origin", async () => {
    const post = (headers: Record<string, string>) =>
      new ConsoleClient().request(`${CONSOLE}/sign-in`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
        body: `token=${ADMIN_TOKEN}`,
      });
    expect((await post({ Origin: "null", "Sec-Fetch-Site": "same-origin" })).status).toBe(303);
    expect((await post({ Origin: "null", "Sec-Fetch-Site": "cross-site" })).status).toBe(403);
    expect((await post({ Origin: "null" })).status).toBe(403);
  });

  it("has no token form when CONSOLE_TOKEN_SIGNIN is false", async () => {
    const client = new ConsoleClient({ CONSOLE_TOKEN_SIGNIN: "false" });
    expect(await (await client.get("/sign-in")).text()).not.toContain('name="token"');
    expect((await client.signIn()).status).toBe(404);
  });
});

describe("a session ends", () => {
  it("after 30 idle minutes, and after 8 hours however active", async () => {
    const idle = new ConsoleClient();
    await idle.signIn();
    testClock.advance(29 * MINUTE_MS);
    expect((await idle.get("/keys")).status).toBe(200);
    testClock.advance(30 * MINUTE_MS);
    expect((await idle.get("/keys")).status).toBe(303);

    const busy = new ConsoleClient();
    await busy.signIn();
    for (let i = 0; i < 16; i++) {
      testClock.advance(29 * MINUTE_MS);
      expect((await busy.get("/keys")).status).toBe(200);
    }
    testClock.advance(30 * MINUTE_MS); // 8 h 14 min after sign-in, the last request 29 min ago
    expect((await busy.get("/keys")).status).toBe(303);
  });

  it("at sign-out, on the server: the old cookie is refused", async () => {
    const client = new ConsoleClient();
    await client.signIn();
    const cookie = client.cookies.get("console_session")!;
    const csrf = await client.csrf();
    expect((await client.post("/sign-out", { csrf })).status).toBe(303);
    client.cookies.set("console_session", cookie); // replayed
    expect((await client.get("/keys")).status).toBe(303);
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM console_sessions").first<{ n: number }>())!.n).toBe(0);
  });

  it("when ADMIN_TOKEN is rotated (the session was opened with the old one)", async () => {
    const client = new ConsoleClient();
    await client.signIn();
    client.overrides = { ADMIN_TOKEN: "a-new-admin-token-987654321", ADMIN_TOKEN_NEXT: ADMIN_TOKEN };
    expect((await client.get("/keys")).status).toBe(200); // the old token still accepted as the next one
    client.overrides = { ADMIN_TOKEN: "a-new-admin-token-987654321" };
    expect((await client.get("/keys")).status).toBe(303);
  });

  it("never on a portal cookie: the console takes only its own", async () => {
    const client = new ConsoleClient();
    await client.signIn();
    const id = client.cookies.get("console_session")!;
    client.cookies.clear();
    client.cookies.set("portal_session", id);
    expect((await client.get("/keys")).status).toBe(303);
  });
});

describe("forms", () => {
  it("refuse a forged CSRF token and a foreign Origin, changing nothing", async () => {
    const client = new ConsoleClient();
    await client.signIn();
    const { id } = await mintKey();
    const csrf = await client.csrf();
    expect((await client.post(`/keys/${id}/disable`, { csrf: `${csrf.slice(0, -2)}xx` })).status).toBe(403);
    expect((await client.post(`/keys/${id}/disable`, {})).status).toBe(403);
    expect((await client.post(`/keys/${id}/disable`, { csrf }, "https://evil.example")).status).toBe(403);
    const row = await env.DB.prepare("SELECT status FROM api_keys WHERE id = ?").bind(id).first<{ status: string }>();
    expect(row!.status).toBe("active");
    expect((await client.post(`/keys/${id}/disable`, { csrf })).status).toBe(303);
    const after = await env.DB.prepare("SELECT status FROM api_keys WHERE id = ?").bind(id).first<{ status: string }>();
    expect(after!.status).toBe("disabled");
  });
});

describe("the gateway", () => {
  it("strips the console's and portal's cookies from what it forwards", async () => {
    const { apiKey } = await mintKey();
    const response = await callWith({}, "/api/v1/echo", {
      headers: { "X-API-Key": apiKey, Cookie: "console_session=abc; theme=dark; portal_session=def" },
    });
    const echoed = (await response.json()) as { headers: Record<string, string> };
    expect(echoed.headers.cookie).toBe("theme=dark");
    const only = await callWith({}, "/api/v1/echo", {
      headers: { "X-API-Key": apiKey, Cookie: "console_session=abc" },
    });
    expect(((await only.json()) as { headers: Record<string, string> }).headers.cookie).toBeUndefined();
  });
});
