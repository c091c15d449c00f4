/**
 * Portal links and sessions: POST /admin/v1/portal/sessions (who may, what it takes, what it stores), the
 * one-time exchange for a session (clean URL, cookie rules, single use, expiry on the clock), and the
 * separation of the portal's cookie from the console's and the admin API's.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import { describe, expect, it } from "vitest";
import { MINUTE_MS } from "../../src/util/time";
import { makeConsumer, setConsumerStatus } from "../admin/consumer-helpers";
import { testClock } from "../clock";
import { admin, ADMIN_TOKEN, BASE, problemOf } from "../helpers";
import { capturingLogs } from "../logs";
import { CONSOLE, fetchWorker, openPortal, PORTAL, PortalClient, portalLink, signedInPortal } from "./helpers";

const linkCount = async () =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM portal_links").first<{ n: number }>())!.n;

/** A scoped credential through the admin API. */
async function credential(operations: string[], consumers?: string[]): Promise<string> {
  const res = await admin("/credentials", { json: { name: "backend", operations, consumers, expires_in_days: 30 } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { credential: string }).credential;
}

describe("POST /admin/v1/portal/sessions", () => {
  it("answers a one-time link under the console's prefix, ending ttl_minutes from now; stores only its hash; audits it", async () => {
    const c = await makeConsumer();
    const response = await openPortal({
      consumer_id: c.id,
      ttl_minutes: 15,
      return_url: "https://app.example.com/settings",
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const body = (await response.json()) as { url: string; expires_at: string };
    const match = new RegExp(`^${BASE}${PORTAL}/link/([A-Za-z0-9_-]{43})$`).exec(body.url);
    expect(match).not.toBeNull();
    expect(Date.parse(body.expires_at)).toBe(testClock.now() + 15 * MINUTE_MS);

    const row = await env.DB.prepare("SELECT * FROM portal_links WHERE consumer_id = ?")
      .bind(c.id)
      .first<Record<string, unknown>>();
    expect(row).toMatchObject({
      return_url: "https://app.example.com/settings",
      created_by: "ADMIN_TOKEN",
      used_at: null,
    });
    expect(JSON.stringify(row)).not.toContain(match![1]!);
    const audit = await env.DB.prepare(
      "SELECT * FROM audit_log WHERE subject_type = 'portal_session' AND subject_id = ?",
    )
      .bind(row!.id)
      .first<Record<string, unknown>>();
    expect(audit).toMatchObject({ actor: "ADMIN_TOKEN", action: "create", consumer_id: c.id });
    expect(String(audit!.changes)).not.toContain(match![1]!);
  });

  it("defaults to 30 minutes, and refuses a ttl outside 5–60 or a return URL that is not https (loopback http aside)", async () => {
    const c = await makeConsumer();
    const ok = (await (await openPortal({ consumer_id: c.id })).json()) as { expires_at: string };
    expect(Date.parse(ok.expires_at)).toBe(testClock.now() + 30 * MINUTE_MS);
    expect((await openPortal({ consumer_id: c.id, return_url: "http://localhost:8080/back" })).status).toBe(201);
    const before = await linkCount();
    for (const bad of [
      { ttl_minutes: 4 },
      { ttl_minutes: 61 },
      { ttl_minutes: 10.5 },
      { return_url: "http://app.example.com/" },
      { return_url: "javascript:alert(1)" },
      { return_url: "https://user:pw@app.example.com/" },
      { return_url: "not a url" },
      { consumer: c.id },
    ]) {
      const res = await openPortal({ consumer_id: c.id, ...bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect((await problemOf(res)).code).toBe("invalid_request");
    }
    expect(await linkCount()).toBe(before);
  });

  it("is 404 for no consumer or a deleted one, and 409 portal_unavailable with the console off", async () => {
    expect((await problemOf(await openPortal({ consumer_id: "nobody-here" }))).code).toBe("consumer_not_found");
    const gone = await makeConsumer();
    await setConsumerStatus(gone.id, "deleted");
    expect((await openPortal({ consumer_id: gone.id })).status).toBe(404);
    const c = await makeConsumer();
    const before = await linkCount();
    const off = await openPortal({ consumer_id: c.id }, ADMIN_TOKEN, { CONSOLE_PATH: "" });
    expect(off.status).toBe(409);
    expect((await problemOf(off)).code).toBe("portal_unavailable");
    expect(await linkCount()).toBe(before);
  });

  it("opens on the console's own hostname when it has one, with the cookie scoped to /portal there", async () => {
    const c = await makeConsumer();
    const host = { CONSOLE_PATH: "", CONSOLE_HOSTNAME: "keys.authorizer.test" };
    const res = await openPortal({ consumer_id: c.id }, ADMIN_TOKEN, host);
    expect(res.status).toBe(201);
    const { url } = (await res.json()) as { url: string };
    expect(url).toMatch(/^https:\/\/keys\.authorizer\.test\/portal\/link\/[A-Za-z0-9_-]{43}$/);
    const ctx = createExecutionContext();
    const opened = await worker.fetch(
      new Request(url, { redirect: "manual" }),
      { ...env, ...host } as Cloudflare.Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(opened.status).toBe(303);
    expect(opened.headers.get("Location")).toBe("/portal/");
    expect(opened.headers.getSetCookie().find((l) => l.startsWith("portal_session="))).toContain("Path=/portal;");
  });

  it("needs consumers:write; a consumer-limited credential opens portals for its consumers only (others 404)", async () => {
    const [mine, other] = [await makeConsumer(), await makeConsumer()];
    const limited = await credential(["consumers:write"], [mine.id]);
    expect((await openPortal({ consumer_id: mine.id }, limited)).status).toBe(201);
    const row = await env.DB.prepare("SELECT created_by FROM portal_links WHERE consumer_id = ?")
      .bind(mine.id)
      .first<{ created_by: string }>();
    expect(row!.created_by).toMatch(/^credential:/);
    const before = await linkCount();
    expect((await problemOf(await openPortal({ consumer_id: other.id }, limited))).code).toBe("consumer_not_found");
    const reader = await credential(["consumers:read", "keys:read"]);
    expect((await problemOf(await openPortal({ consumer_id: mine.id }, reader))).code).toBe("forbidden_operation");
    expect(await linkCount()).toBe(before);
  });
});

describe("opening a link", () => {
  it("exchanges the token for a session cookie scoped to the portal, ending with the link, and redirects to a clean URL", async () => {
    const c = await makeConsumer({ name: "Acme" });
    const link = await portalLink(c.id, { ttl_minutes: 20 });
    const client = new PortalClient();
    const res = await client.open(link);
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`${PORTAL}/`);
    expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const cookie = res.headers.getSetCookie().find((l) => l.startsWith("portal_session="))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toContain(`Path=${PORTAL}`);
    expect(cookie).toContain(`Max-Age=${20 * 60}`);
    const home = await client.get("/");
    expect(home.status).toBe(200);
    expect(await home.text()).toContain("Acme");
    const signIn = await env.DB.prepare("SELECT * FROM console_sign_ins WHERE actor = ?")
      .bind(`portal:${c.id}`)
      .first<Record<string, unknown>>();
    expect(signIn).toMatchObject({ kind: "portal", method: "link", outcome: "signed_in" });
  });

  it("is not spent by a HEAD (a link checker's)", async () => {
    const c = await makeConsumer();
    const link = await portalLink(c.id);
    const head = await fetchWorker(link, { method: "HEAD" });
    expect(head.status).toBe(204);
    expect(head.headers.getSetCookie()).toEqual([]);
    expect((await new PortalClient().open(link)).status).toBe(303);
  });

  it("works once: a second visit of the same link is refused and sets no cookie", async () => {
    const c = await makeConsumer();
    const link = await portalLink(c.id);
    expect((await new PortalClient().open(link)).status).toBe(303);
    const again = new PortalClient();
    const res = await again.open(link);
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await res.text()).toContain("This link cannot be used");
    expect((await again.get("/")).status).toBe(403);
  });

  it("is refused once its ttl has passed, and its session ends at the same moment", async () => {
    const c = await makeConsumer();
    const lapsed = await portalLink(c.id, { ttl_minutes: 5 });
    testClock.advance(5 * MINUTE_MS);
    expect((await new PortalClient().open(lapsed)).status).toBe(403);

    const client = await signedInPortal(c.id, { ttl_minutes: 10 });
    testClock.advance(10 * MINUTE_MS - 1);
    expect((await client.get("/")).status).toBe(200);
    testClock.advance(1);
    const ended = await client.get("/");
    expect(ended.status).toBe(403);
    expect(await ended.text()).toContain("Your session has ended");
  });

  it("refuses a malformed or unknown token, and throttles an address that keeps trying", async () => {
    const fromHere = { headers: { "CF-Connecting-IP": "203.0.113.77" } };
    const unknown = `${PORTAL}/link/${"A".repeat(43)}`;
    for (let i = 0; i < 5; i++) expect((await fetchWorker(unknown, fromHere)).status).toBe(403);
    expect(
      (await fetchWorker(`${PORTAL}/link/short`, { headers: { "CF-Connecting-IP": "203.0.113.78" } })).status,
    ).toBe(403);
    // The address has used up its tries: even a good link is not looked at until the window ends.
    const c = await makeConsumer();
    const good = await portalLink(c.id);
    expect((await fetchWorker(good, fromHere)).status).toBe(429);
    expect((await fetchWorker(good, { headers: { "CF-Connecting-IP": "198.51.100.9" } })).status).toBe(303);
  });

  it("never logs the token", async () => {
    const c = await makeConsumer();
    const link = await portalLink(c.id);
    const token = link.split("/").pop()!;
    const { lines, logs } = await capturingLogs(async () => {
      await new PortalClient().open(link);
      await new PortalClient().open(link); // refused: a reuse
    });
    expect(lines.join("\n")).not.toContain(token);
    expect(logs.filter((l) => l.msg === "portal.sign_in").map((l) => [l.code, l.actor])).toEqual([
      ["signed_in", `portal:${c.id}`],
      ["refused", undefined],
    ]);
  });

  it("a disabled consumer's link opens a read-only portal; a deleted consumer's opens nothing", async () => {
    const c = await makeConsumer();
    const link = await portalLink(c.id);
    await setConsumerStatus(c.id, "disabled");
    const client = new PortalClient();
    expect((await client.open(link)).status).toBe(303);
    expect(await (await client.get("/")).text()).toContain("Your access is disabled");

    const d = await makeConsumer();
    const gone = await portalLink(d.id);
    await setConsumerStatus(d.id, "deleted");
    expect((await new PortalClient().open(gone)).status).toBe(403);
  });
});

describe("the portal's cookie stays the portal's", () => {
  it("opens no console page and no admin route", async () => {
    const c = await makeConsumer();
    const client = await signedInPortal(c.id);
    const cookie = `portal_session=${client.cookies.get("portal_session")}`;
    const consolePage = await fetchWorker(`${CONSOLE}/keys`, { headers: { Cookie: cookie } });
    expect(consolePage.status).toBe(303);
    expect(consolePage.headers.get("Location")).toBe(`${CONSOLE}/sign-in`);
    // Even presented under the console's cookie name, a portal session is not a console session.
    const renamed = await fetchWorker(`${CONSOLE}/keys`, {
      headers: { Cookie: `console_session=${client.cookies.get("portal_session")}` },
    });
    expect(renamed.status).toBe(303);
    const adminRoute = await fetchWorker("/admin/v1/keys", { headers: { Cookie: cookie } });
    expect(adminRoute.status).toBe(401);
  });

  it("and a console session opens no portal page", async () => {
    const signIn = await fetchWorker(`${CONSOLE}/sign-in`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: BASE },
      body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
    });
    const session = signIn.headers
      .getSetCookie()
      .find((l) => l.startsWith("console_session="))!
      .split(";")[0]!
      .split("=")[1]!;
    expect((await fetchWorker(`${CONSOLE}/keys`, { headers: { Cookie: `console_session=${session}` } })).status).toBe(
      200,
    );
    expect((await fetchWorker(`${PORTAL}/`, { headers: { Cookie: `console_session=${session}` } })).status).toBe(403);
    expect((await fetchWorker(`${PORTAL}/`, { headers: { Cookie: `portal_session=${session}` } })).status).toBe(403);
  });
});
