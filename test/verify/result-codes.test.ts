/**
 * Every result code of the verify path, driven through the real gateway: status, problem body, headers,
 * and that a refused request never reached the origin.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { checksumOf, generateKey } from "../../src/keys/format";
import { call, gateway, mintKey, originSaw, problemOf, revoke } from "../helpers";
import { testClock } from "../clock";
import { HOUR_MS } from "../../src/util/time";

async function refusedWith(response: Promise<Response>, trace: string, status: number, code: string) {
  const res = await response;
  expect(res.status).toBe(status);
  const body = await problemOf(res);
  expect(body.code).toBe(code);
  expect(body.status).toBe(status);
  expect(body.type).toBe(`urn:problem:${code}`);
  expect(body.request_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(await originSaw(trace)).toBe(false);
  return { res, body };
}

/** Sets columns of a key in D1 before its first use (so no cache holds it yet). */
async function setColumns(id: string, sql: string, ...values: unknown[]) {
  await env.DB.prepare(`UPDATE api_keys SET ${sql} WHERE id = ?`)
    .bind(...values, id)
    .run();
}

describe("401s", () => {
  it("missing_api_key without WWW-Authenticate error", async () => {
    const { response, trace } = gateway("/api/v1/x", null);
    const { res } = await refusedWith(response, trace, 401, "missing_api_key");
    expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="api"');
  });

  it("missing_api_key for an Authorization scheme other than Bearer", async () => {
    const { response, trace } = gateway("/api/v1/x", null, { headers: { Authorization: "Basic dXNlcjpwYXNz" } });
    await refusedWith(response, trace, 401, "missing_api_key");
  });

  it.each([
    ["garbage", "not-a-key"],
    [
      "bad checksum",
      (() => {
        const key = generateKey("", "secret", "live");
        return key.slice(0, -6) + (key.endsWith("000000") ? "000001" : "000000");
      })(),
    ],
    ["unknown but well-formed", generateKey("", "secret", "live")],
    ["wrong vendor", generateKey("acme", "secret", "live")],
  ])("invalid_key for a %s key, with error=invalid_token", async (_label, key) => {
    const { response, trace } = gateway("/api/v1/x", key);
    const { res, body } = await refusedWith(response, trace, 401, "invalid_key");
    expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="api", error="invalid_token"');
    expect(JSON.stringify(body)).not.toContain(key);
  });

  it("key_revoked after revocation", async () => {
    const { apiKey, id } = await mintKey();
    expect((await gateway("/api/v1/x", apiKey).response).status).toBe(200);
    expect((await revoke(id)).status).toBe(200);
    const { response, trace } = gateway("/api/v1/x", apiKey);
    const { res } = await refusedWith(response, trace, 401, "key_revoked");
    expect(res.headers.get("WWW-Authenticate")).toContain('error="invalid_token"');
  });

  it("key_expired past expires_at", async () => {
    const { apiKey, id } = await mintKey();
    await setColumns(id, "expires_at = ?", testClock.now() - 1);
    const { response, trace } = gateway("/api/v1/x", apiKey);
    await refusedWith(response, trace, 401, "key_expired");
  });

  it("key_expired past a rotation's grace end", async () => {
    const { apiKey, id } = await mintKey();
    await setColumns(id, "grace_until = ?", testClock.now() - 1);
    const { response, trace } = gateway("/api/v1/x", apiKey);
    await refusedWith(response, trace, 401, "key_expired");
  });

  it("a key inside its rotation grace still works", async () => {
    const { apiKey, id } = await mintKey();
    await setColumns(id, "grace_until = ?", testClock.now() + HOUR_MS);
    expect((await gateway("/api/v1/x", apiKey).response).status).toBe(200);
  });

  it("key_disabled", async () => {
    const { apiKey, id } = await mintKey();
    await setColumns(id, "status = 'disabled'");
    const { response, trace } = gateway("/api/v1/x", apiKey);
    await refusedWith(response, trace, 401, "key_disabled");
  });

  it("status is checked before expiry: a revoked, expired key is key_revoked", async () => {
    const { apiKey, id } = await mintKey();
    await setColumns(id, "status = 'revoked', expires_at = ?", testClock.now() - 1);
    const { response, trace } = gateway("/api/v1/x", apiKey);
    await refusedWith(response, trace, 401, "key_revoked");
  });
});

describe("403s", () => {
  it("ip_not_allowed: only CF-Connecting-IP counts; every other client-IP header is ignored", async () => {
    const { apiKey } = await mintKey({ ip_allowlist: ["203.0.113.0/24", "2001:db8::/32"] });
    const spoofed = {
      "X-Forwarded-For": "203.0.113.5",
      "X-Real-IP": "203.0.113.5",
      "True-Client-IP": "203.0.113.5",
      Forwarded: "for=203.0.113.5",
    };
    let { response, trace } = gateway("/api/v1/x", apiKey, { headers: spoofed });
    await refusedWith(response, trace, 403, "ip_not_allowed");

    ({ response, trace } = gateway("/api/v1/x", apiKey, {
      headers: { ...spoofed, "CF-Connecting-IP": "198.51.100.7" },
    }));
    await refusedWith(response, trace, 403, "ip_not_allowed");

    for (const ip of ["203.0.113.5", "::ffff:203.0.113.200", "2001:db8:1::9"]) {
      const ok = await gateway("/api/v1/x", apiKey, { headers: { "CF-Connecting-IP": ip } }).response;
      expect(ok.status, ip).toBe(200);
    }
  });

  it("origin_not_allowed for a publishable key from another Origin, or none", async () => {
    const { apiKey } = await mintKey({ type: "publishable", allowed_origins: ["https://app.example.com"] });
    let { response, trace } = gateway("/api/v1/x", apiKey, { headers: { Origin: "https://evil.example.com" } });
    await refusedWith(response, trace, 403, "origin_not_allowed");
    ({ response, trace } = gateway("/api/v1/x", apiKey));
    await refusedWith(response, trace, 403, "origin_not_allowed");
    const ok = await gateway("/api/v1/x", apiKey, { headers: { Origin: "https://app.example.com" } }).response;
    expect(ok.status).toBe(200);
  });

  it("route_not_allowed outside the key's allowed_routes, checked by method too", async () => {
    const { apiKey } = await mintKey({
      scopes: ["read", "write"],
      allowed_routes: ["GET /api/v1/public/*", "* /api/v1/reports/*"],
    });
    let { response, trace } = gateway("/api/v1/private", apiKey);
    await refusedWith(response, trace, 403, "route_not_allowed");
    ({ response, trace } = gateway("/api/v1/public/x", apiKey, { method: "POST" }));
    await refusedWith(response, trace, 403, "route_not_allowed");
    expect((await gateway("/api/v1/reports/1", apiKey, { method: "DELETE" }).response).status).toBe(200);
  });

  it("insufficient_scope names the scopes that would do", async () => {
    const { apiKey } = await mintKey({ scopes: ["read"] });
    const { response, trace } = gateway("/api/v1/orders", apiKey, { method: "DELETE" });
    const { res } = await refusedWith(response, trace, 403, "insufficient_scope");
    expect(res.headers.get("WWW-Authenticate")).toBe(
      'Bearer realm="api", error="insufficient_scope", scope="write admin"',
    );
  });

  it("the admin scope satisfies the default policy for reads and writes", async () => {
    const { apiKey } = await mintKey({ scopes: ["admin"] });
    for (const method of ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]) {
      expect((await gateway("/api/v1/x", apiKey, { method }).response).status, method).toBe(200);
    }
  });
});

describe("400s", () => {
  it.each(["api_key", "apikey", "KEY", "access_token", "Token", "X-API-KEY"])(
    "key_in_query for ?%s=, even with a valid header key, and the key is never echoed",
    async (name) => {
      const { apiKey } = await mintKey();
      const { response, trace } = gateway(`/api/v1/x?${name}=${apiKey}`, apiKey);
      const { body } = await refusedWith(response, trace, 400, "key_in_query");
      expect(JSON.stringify(body)).not.toContain(apiKey);
    },
  );

  it.each([
    [
      "two different credentials",
      (k: string) => ({ "X-API-Key": k, Authorization: `Bearer ${k.slice(0, -1)}${k.endsWith("x") ? "y" : "x"}` }),
    ],
    ["an empty Bearer", () => ({ Authorization: "Bearer   " })],
    ["an empty X-API-Key", () => ({ "X-API-Key": "" })],
    ["a tab inside the key", (k: string) => ({ "X-API-Key": `${k.slice(0, 10)}\t${k.slice(10)}` })],
    ["a duplicated header", (k: string) => ({ "X-API-Key": `${k}, ${k}` })],
  ])("malformed_request for %s", async (_label, headersFor) => {
    const { apiKey } = await mintKey();
    const trace = crypto.randomUUID();
    const response = call("/api/v1/x", { headers: { ...headersFor(apiKey), "X-Test-Trace": trace } });
    await refusedWith(response, trace, 400, "malformed_request");
  });

  it("accepts the same key in both headers, and a lower-case bearer scheme", async () => {
    const { apiKey } = await mintKey();
    expect(
      (await call("/api/v1/x", { headers: { "X-API-Key": apiKey, Authorization: `Bearer ${apiKey}` } })).status,
    ).toBe(200);
    expect((await call("/api/v1/x", { headers: { Authorization: `bearer   ${apiKey}  ` } })).status).toBe(200);
  });
});

describe("keys that look almost right", () => {
  it("zero-width and homoglyph characters make a key invalid, not valid", async () => {
    const { apiKey } = await mintKey();
    for (const tampered of [`${apiKey.slice(0, 12)}\u200b${apiKey.slice(12)}`, apiKey.replace(/a/, "\u0430")]) {
      if (tampered === apiKey) continue;
      const res = await call("/api/v1/x", { headers: { "X-API-Key": tampered } });
      expect(res.status).toBe(401);
    }
  });

  it("the checksum is over the random part: recomputing it for a changed body still gives an unknown key", async () => {
    const { apiKey } = await mintKey();
    const prefixEnd = apiKey.length - 49;
    const body = apiKey.slice(prefixEnd, -6);
    const changed = body.slice(0, -1) + (body.endsWith("A") ? "B" : "A");
    const forged = apiKey.slice(0, prefixEnd) + changed + checksumOf(changed);
    const res = await call("/api/v1/x", { headers: { "X-API-Key": forged } });
    expect((await problemOf(res)).code).toBe("invalid_key");
  });
});
