/**
 * Faults under the data routes (the gateway and the RPC entrypoint): KV, D1 and the key's object failing
 * underneath, driven through the real Worker with failing wrappers around the real bindings. For every
 * fault: the documented status and code, the origin never contacted when refusing, and a log line that
 * names the degraded mode.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/keys/hash";
import { clearIsolateCaches, KV_READ_TIMEOUT_MS, kvKeyFor } from "../../src/keys/lookup";
import { forgetLeases, KEY_OBJECT_TIMEOUT_MS } from "../../src/limits/leases";
import { AuthService } from "../../src/rpc/auth-service";
import { BASE, callWith, mintKey, originSaw, problemOf } from "../helpers";
import worker from "../../src/index";
import { capturingLogs } from "../logs";
import { breaking, breakingKeyObjects, downD1 } from "./wrappers";
import { hasSettled, testClock, until } from "../clock";

/** A gateway request through the Worker with some bindings replaced; the origin fixture remembers the trace. */
function through(overrides: Partial<Cloudflare.Env>, apiKey: string, path = "/api/v1/x") {
  const trace = crypto.randomUUID();
  const response = callWith(overrides, path, { headers: { "X-API-Key": apiKey, "X-Test-Trace": trace } });
  return { trace, response };
}

/** AuthService.verify on the real entrypoint class, with some bindings replaced. */
async function verifyWith(overrides: Partial<Cloudflare.Env>, params: Record<string, unknown>) {
  const ctx = createExecutionContext();
  const service = new AuthService(ctx, { ...env, ...overrides } as Cloudflare.Env);
  const decision = await service.verify(params as never);
  await waitOnExecutionContext(ctx);
  return decision;
}

/** Uses the key once so that D1's record is in KV and in the key's object. */
async function warm(apiKey: string) {
  const res = await callWith({}, "/api/v1/x", { headers: { "X-API-Key": apiKey } });
  expect(res.status).toBe(200);
}

async function forgetIsolate(id: string) {
  clearIsolateCaches();
  forgetLeases(id);
}

beforeEach(() => clearIsolateCaches());

describe("KV faults: a miss, and D1 decides", () => {
  it("a KV read that never answers is given up on, and D1 decides (refuses a revoked key, admits an active one)", async () => {
    const hungKV = breaking(env.KEY_CACHE, { get: "hang" }, "KV");
    const active = await mintKey();
    const revoked = await mintKey();
    expect(
      (
        await callWith({}, `/admin/v1/keys/${revoked.id}/revoke`, {
          method: "POST",
          headers: { Authorization: "Bearer test-admin-token-0123456789" },
        })
      ).status,
    ).toBe(200);
    await forgetIsolate(revoked.id);

    const { result, logs } = await capturingLogs(async () => {
      const ok = through({ KEY_CACHE: hungKV }, active.apiKey);
      const refused = through({ KEY_CACHE: hungKV }, revoked.apiKey);
      await testClock.untilDeadlinesPending(2); // both wait on KV
      testClock.advance(KV_READ_TIMEOUT_MS - 1);
      expect(await hasSettled(Promise.race([ok.response, refused.response]))).toBe(false);
      testClock.advance(1);
      return { ok: await ok.response, refused: await refused.response, refusedTrace: refused.trace };
    });
    expect(result.ok.status).toBe(200);
    expect((await problemOf(result.refused)).code).toBe("key_revoked");
    expect(await originSaw(result.refusedTrace)).toBe(false);
    expect(logs.filter((l) => l.degraded === "kv_unavailable").length).toBeGreaterThanOrEqual(2);
    expect(KV_READ_TIMEOUT_MS).toBeLessThanOrEqual(2_000);
  });

  it("a KV entry with a field of the wrong type or a missing limit list is a miss, never a grant", async () => {
    const { apiKey, id } = await mintKey({ scopes: ["read"] });
    await warm(apiKey);
    const kvKey = kvKeyFor(await sha256Hex(apiKey));
    const good = JSON.parse((await env.KEY_CACHE.get(kvKey))!) as Record<string, unknown>;
    // A tampered entry that would widen the key if trusted: every scope, no IP restriction in a wrong shape.
    for (const corrupt of [
      { ...good, scopes: "admin" },
      { ...good, ip_allowlist: null },
      { ...good, rate_limits: undefined },
      { ...good, version: "2" },
      { ...good, expires_at: Number.MAX_VALUE * 2 },
    ]) {
      await forgetIsolate(id);
      await env.KEY_CACHE.put(kvKey, JSON.stringify(corrupt));
      // A write needs the "write" scope this key lacks: only the D1 record (scopes ["read"]) can answer that.
      const res = await callWith({}, "/api/v1/x", { method: "POST", headers: { "X-API-Key": apiKey } });
      expect((await problemOf(res)).code).toBe("insufficient_scope");
    }
  });

  it("a KV write failing during a refill still answers from D1, and says so in the log", async () => {
    const { apiKey } = await mintKey();
    const { result, logs } = await capturingLogs(
      () => through({ KEY_CACHE: breaking(env.KEY_CACHE, { put: "throw" }, "KV") }, apiKey).response,
    );
    expect(result.status).toBe(200);
    expect(logs).toContainEqual(expect.objectContaining({ msg: "key_cache.write_failed", degraded: "kv_unavailable" }));
    expect(await env.KEY_CACHE.get(kvKeyFor(await sha256Hex(apiKey)))).toBeNull();
  });
});

describe("D1 down", () => {
  it("with a cache hit, serves the cached, unexpired record (from KV, and from the isolate)", async () => {
    const { apiKey, id } = await mintKey();
    await warm(apiKey);
    await forgetIsolate(id);
    const fromKV = through({ DB: downD1() }, apiKey);
    expect((await fromKV.response).status).toBe(200);
    expect(await originSaw(fromKV.trace)).toBe(true);
    const fromIsolate = through({ DB: downD1() }, apiKey);
    expect((await fromIsolate.response).status).toBe(200);
  });

  it("with a cache hit on a record past its expiry, refuses key_expired: the cache never extends a key's life", async () => {
    const { apiKey, id } = await mintKey();
    await warm(apiKey);
    const kvKey = kvKeyFor(await sha256Hex(apiKey));
    const cached = JSON.parse((await env.KEY_CACHE.get(kvKey))!) as Record<string, unknown>;
    await env.KEY_CACHE.put(kvKey, JSON.stringify({ ...cached, expires_at: testClock.now() - 1 }));
    await forgetIsolate(id);
    const { trace, response } = through({ DB: downD1() }, apiKey);
    const res = await response;
    expect((await problemOf(res)).code).toBe("key_expired");
    expect(await originSaw(trace)).toBe(false);
  });

  it("with a cache miss, answers 503 authorizer_unavailable with Retry-After, never 401, and never reaches the origin", async () => {
    const { apiKey } = await mintKey();
    const { result, logs } = await capturingLogs(async () => {
      const { trace, response } = through({ DB: downD1() }, apiKey);
      return { res: await response, trace };
    });
    expect(result.res.status).toBe(503);
    expect((await problemOf(result.res)).code).toBe("authorizer_unavailable");
    expect(Number(result.res.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(result.res.headers.get("WWW-Authenticate")).toBeNull();
    expect(await originSaw(result.trace)).toBe(false);
    expect(logs).toContainEqual(
      expect.objectContaining({ degraded: "d1_unavailable", code: "authorizer_unavailable" }),
    );
  });

  it("with KV down as well, still 503 and never 401", async () => {
    const { apiKey } = await mintKey();
    const res = await through(
      { DB: downD1(), KEY_CACHE: breaking(env.KEY_CACHE, { get: "throw", put: "throw" }, "KV") },
      apiKey,
    ).response;
    expect(res.status).toBe(503);
  });

  it("over RPC with a cache miss, the decision is authorizer_unavailable, never valid and never invalid_key", async () => {
    const { apiKey } = await mintKey();
    const decision = await verifyWith({ DB: downD1() }, { key: apiKey, method: "GET", path: "/api/v1/x" });
    expect(decision).toEqual({ valid: false, code: "authorizer_unavailable" });
  });
});

describe("the key's object failing", () => {
  it("over RPC: authorizer_unavailable, one call and no retry, and a log line naming the object", async () => {
    const { apiKey } = await mintKey();
    const { ns, calls } = breakingKeyObjects({ acquire: "throw" });
    const { result, logs } = await capturingLogs(() =>
      verifyWith({ KEY_OBJECT: ns }, { key: apiKey, method: "GET", path: "/api/v1/x" }),
    );
    expect(result).toEqual({ valid: false, code: "authorizer_unavailable" });
    expect(calls.filter((c) => c === "acquire")).toHaveLength(1);
    expect(logs).toContainEqual(expect.objectContaining({ degraded: "key_object_unavailable" }));
  });

  it("hung: refused with 503 once KEY_OBJECT_TIMEOUT_MS has passed, never admitted, the origin not contacted", async () => {
    const { apiKey } = await mintKey();
    const { ns, calls } = breakingKeyObjects({ acquire: "hang" });
    const { trace, response } = through({ KEY_OBJECT: ns }, apiKey);
    await until(() => calls.includes("acquire"), "the call to the object");
    expect(testClock.pendingDeadlines).toBe(1);
    testClock.advance(KEY_OBJECT_TIMEOUT_MS - 1);
    expect(await hasSettled(response)).toBe(false);
    testClock.advance(1);
    const result = await response;
    expect(await originSaw(trace)).toBe(false);
    const body = await problemOf(result);
    expect([result.status, body.code]).toEqual([503, "authorizer_unavailable"]);
    expect(result.headers.get("Retry-After")).not.toBeNull();
    expect(calls.filter((c) => c === "acquire")).toHaveLength(1);
  });
});

describe("origin faults", () => {
  it("an unreachable origin is 502, told apart from auth errors, and logged with the request id", async () => {
    const { apiKey } = await mintKey();
    const broken = { fetch: async () => Promise.reject(new Error("connection refused")) } as unknown as Fetcher;
    const { result, logs } = await capturingLogs(() => through({ ORIGIN: broken }, apiKey).response);
    const body = await problemOf(result);
    expect([result.status, body.code]).toEqual([502, "origin_unreachable"]);
    expect(result.headers.get("WWW-Authenticate")).toBeNull();
    expect(logs).toContainEqual(
      expect.objectContaining({ degraded: "origin_unreachable", request_id: body.request_id }),
    );
  });
});

describe("configuration faults", () => {
  it("a malformed setting closes the gateway, RPC and the admin mint, names the setting (not its value) in the log", async () => {
    const { apiKey } = await mintKey();
    const marker = `not-json-${crypto.randomUUID()}`;
    const bad = { ROUTE_POLICY: marker };
    const { result, lines, logs } = await capturingLogs(async () => {
      const gateway = through(bad, apiKey);
      const res = await gateway.response;
      const rpc = await verifyWith(bad, { key: apiKey, method: "GET", path: "/api/v1/x" });
      const ctx = createExecutionContext();
      const mint = await worker.fetch(
        new Request(`${BASE}/admin/v1/keys`, {
          method: "POST",
          headers: { Authorization: "Bearer test-admin-token-0123456789", "Content-Type": "application/json" },
          body: JSON.stringify({ owner_id: "o" }),
        }),
        { ...env, ...bad } as Cloudflare.Env,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return { res, trace: gateway.trace, rpc, mint };
    });
    expect(result.res.status).toBe(503);
    expect(await originSaw(result.trace)).toBe(false);
    expect(result.rpc).toEqual({ valid: false, code: "authorizer_unavailable" });
    expect(result.mint.status).toBe(503);
    expect(result.mint.headers.get("Retry-After")).not.toBeNull();
    expect(logs).toContainEqual(expect.objectContaining({ degraded: "config_invalid", setting: "ROUTE_POLICY" }));
    expect(lines.join("\n")).not.toContain(marker);
  });

  it("admin routes with no ADMIN_TOKEN and no Access answer 503 with a log line, whatever is presented", async () => {
    const ctx = createExecutionContext();
    const { result, logs } = await capturingLogs(async () =>
      worker.fetch(
        new Request(`${BASE}/admin/v1/keys`, { headers: { Authorization: "Bearer " } }),
        { ...env, ADMIN_TOKEN: undefined } as Cloudflare.Env,
        ctx,
      ),
    );
    expect(result.status).toBe(503);
    const body = await problemOf(result);
    expect(logs).toContainEqual(
      expect.objectContaining({ degraded: "admin_auth_unconfigured", request_id: body.request_id }),
    );
  });
});
