/**
 * The admin routes reached with credentials where they do not belong: API keys or the admin token in the
 * query string, API keys in the admin headers, and admin-token look-alikes. Each is refused with its code,
 * the credential is not echoed, and nothing changes in D1.
 */
import { describe, expect, it } from "vitest";
import { QUERY_CREDENTIAL_NAMES } from "../../src/verify/credential";
import { ADMIN_TOKEN, call, mintKey } from "../helpers";
import { d1Snapshot } from "../faults/wrappers";
import { expectRefusal } from "./expect";

const ROUTES: [string, string][] = [
  ["GET", "/admin/v1/keys"],
  ["POST", "/admin/v1/keys"],
  ["GET", "/admin/v1/audit"],
  ["GET", "/admin/v1/openapi.json"],
];

describe("credentials in the query string", () => {
  it.each(ROUTES)(
    "%s %s: every credential name, in any case, is 400 key_in_query even with a valid admin header",
    async (method, path) => {
      const { apiKey } = await mintKey({ scopes: ["admin"] });
      const before = await d1Snapshot();
      for (const name of [...QUERY_CREDENTIAL_NAMES, "API_KEY", "Access_Token"]) {
        for (const value of [ADMIN_TOKEN, apiKey]) {
          const res = await call(`${path}?${encodeURIComponent(name)}=${encodeURIComponent(value)}`, {
            method,
            headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
            body: method === "POST" ? JSON.stringify({ owner_id: "from-query" }) : undefined,
          });
          await expectRefusal(res, 400, "key_in_query", [ADMIN_TOKEN, apiKey]);
        }
      }
      expect(await d1Snapshot()).toBe(before);
    },
  );

  it("the token alone in the query, with no header, is refused the same way (never read as a credential)", async () => {
    const res = await call(`/admin/v1/keys?access_token=${ADMIN_TOKEN}`);
    await expectRefusal(res, 400, "key_in_query", [ADMIN_TOKEN]);
  });
});

describe("admin-token look-alikes", () => {
  const before = () => d1Snapshot();
  it.each<[string, Record<string, string>]>([
    ["an API key with the admin scope as Bearer", {}],
    ["the token with a character appended", { Authorization: `Bearer ${ADMIN_TOKEN}x` }],
    ["the token with its last character dropped", { Authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` }],
    ["the token in upper case", { Authorization: `Bearer ${ADMIN_TOKEN.toUpperCase()}` }],
    ["the token twice", { Authorization: `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}` }],
    ["the token under another scheme", { Authorization: `Basic ${ADMIN_TOKEN}` }],
    ["the token with no scheme", { Authorization: ADMIN_TOKEN }],
    ["the token in X-API-Key", { "X-API-Key": ADMIN_TOKEN }],
    ["the token in X-Admin-Token", { "X-Admin-Token": ADMIN_TOKEN }],
    ["the token in a cookie", { Cookie: `token=${ADMIN_TOKEN}` }],
    ["an empty Bearer", { Authorization: "Bearer " }],
    ["the token with a zero-width space", { Authorization: `Bearer ${ADMIN_TOKEN}\u200b` }],
    ["a forged Access assertion header with no Access configured", { "Cf-Access-Jwt-Assertion": "e30.e30.sig" }],
  ])("%s: 401 admin_unauthorized, nothing created", async (label, headers) => {
    const snapshot = await before();
    const apiKey = label.startsWith("an API key") ? (await mintKey({ scopes: ["admin"] })).apiKey : "";
    const h = new Headers({ "Content-Type": "application/json", ...headers });
    if (apiKey) h.set("Authorization", `Bearer ${apiKey}`);
    const res = await call("/admin/v1/keys", {
      method: "POST",
      headers: h,
      body: JSON.stringify({ owner_id: "lookalike" }),
    });
    await expectRefusal(res, 401, "admin_unauthorized", [ADMIN_TOKEN, ...(apiKey ? [apiKey] : [])]);
    expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="admin"');
    if (!apiKey) expect(await d1Snapshot()).toBe(snapshot);
  });
});
