/**
 * Faults under the admin routes. D1, the key's object and KV share no transaction, so every change is
 * announced to the object, written to D1 (with its audit row, in one batch), then pushed to the object and
 * KV. Each step can fail: nothing may be partly written, the answer is 503 with Retry-After, a retry
 * completes the change, and while the object is out of step with D1 no stale copy can admit a request.
 */
import { createExecutionContext, evictDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { sha256Hex } from "../../src/keys/hash";
import type { KeyView } from "../../src/keys/key-record";
import type { RotateKeyResult } from "../../src/operations/rotate-key";
import { clearIsolateCaches, kvKeyFor } from "../../src/keys/lookup";
import { forgetLeases } from "../../src/limits/leases";
import { ADMIN_TOKEN, BASE, call, gateway, mintKey, originSaw, problemOf } from "../helpers";
import { capturingLogs } from "../logs";
import { breakingKeyObjects, d1Snapshot, downD1, readOnlyD1 } from "./wrappers";

/** An admin call through the Worker with some bindings replaced. */
async function adminWith(overrides: Partial<Cloudflare.Env>, method: string, path: string, json?: unknown) {
  const headers: Record<string, string> = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  if (json !== undefined) headers["Content-Type"] = "application/json";
  const ctx = createExecutionContext();
  const request = new Request(`${BASE}/admin/v1${path}`, {
    method,
    headers,
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const response = await worker.fetch(request, { ...env, ...overrides } as Cloudflare.Env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

const auditRows = async (id: string) =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE subject_type = 'key' AND subject_id = ?")
    .bind(id)
    .first<{ n: number }>())!.n;
const statusOf = async (id: string) =>
  (await env.DB.prepare("SELECT status FROM api_keys WHERE id = ?").bind(id).first<{ status: string }>())!.status;

/** A 503 with Retry-After whose body holds nothing of the failure (no SQL, no binding internals). */
async function expectUnavailable(res: Response) {
  expect(res.status).toBe(503);
  expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
  const text = await res.clone().text();
  expect(text).not.toMatch(/SELECT|D1_|api_keys|Durable|unavailable:/);
  expect((await problemOf(res)).code).toBe("authorizer_unavailable");
}

/** Uses the key once, so its record is in KV and in the key's object; returns the KV entry. */
async function warm(apiKey: string): Promise<string> {
  expect((await call("/api/v1/x", { headers: { "X-API-Key": apiKey } })).status).toBe(200);
  return (await env.KEY_CACHE.get(kvKeyFor(await sha256Hex(apiKey))))!;
}

/** Puts an old copy back where another location could still read it: KV, with this isolate's caches empty. */
async function restoreStaleCopy(apiKey: string, id: string, kvEntry: string) {
  await env.KEY_CACHE.put(kvKeyFor(await sha256Hex(apiKey)), kvEntry);
  clearIsolateCaches();
  forgetLeases(id);
}

beforeEach(() => clearIsolateCaches());

const MUTATIONS: [string, string, (id: string) => string, unknown][] = [
  ["create", "POST", () => "/keys", { owner_id: "o-fault" }],
  ["update", "PATCH", (id) => `/keys/${id}`, { name: "renamed" }],
  ["revoke", "POST", (id) => `/keys/${id}/revoke`, { reason: "fault test" }],
  ["disable", "POST", (id) => `/keys/${id}/disable`, undefined],
  ["rotate", "POST", (id) => `/keys/${id}/rotate`, undefined],
];

describe("D1 down", () => {
  it.each(MUTATIONS)(
    "%s answers 503 with Retry-After, writes nothing, and logs d1_unavailable",
    async (_name, method, path, json) => {
      const { id } = await mintKey();
      const before = await d1Snapshot();
      const { result, logs } = await capturingLogs(() => adminWith({ DB: downD1() }, method, path(id), json));
      await expectUnavailable(result);
      expect(await d1Snapshot()).toBe(before);
      expect(logs).toContainEqual(expect.objectContaining({ degraded: "d1_unavailable" }));
      expect(logs).toContainEqual(
        expect.objectContaining({ msg: "refused", code: "authorizer_unavailable", status: 503 }),
      );
    },
  );

  it.each([["/keys"], ["/audit"], ["/keys/key_0000000000000000000000"]])(
    "the read route %s answers 503, not 404 or an empty list",
    async (path) => {
      await expectUnavailable(await adminWith({ DB: downD1() }, "GET", path));
    },
  );
});

describe("D1 refusing writes (reads still work)", () => {
  it.each(MUTATIONS)(
    "%s answers 503, writes nothing, and the key goes on being decided by D1's state",
    async (_name, method, path, json) => {
      const { apiKey, id } = await mintKey();
      const stale = await warm(apiKey);
      const before = await d1Snapshot();
      await expectUnavailable(await adminWith({ DB: readOnlyD1() }, method, path(id), json));
      expect(await d1Snapshot()).toBe(before);
      // The object was told a change was coming; it reads D1, which still says active: the key keeps working.
      await restoreStaleCopy(apiKey, id, stale);
      expect((await call("/api/v1/x", { headers: { "X-API-Key": apiKey } })).status).toBe(200);
    },
  );
});

describe("the key's object failing", () => {
  it.each(MUTATIONS.slice(1))(
    "before D1 is written (%s): 503, and nothing is written",
    async (_name, method, path, json) => {
      const { id } = await mintKey();
      const before = await d1Snapshot();
      const { ns, calls } = breakingKeyObjects({ prepareChange: "throw" });
      const { result, logs } = await capturingLogs(() => adminWith({ KEY_OBJECT: ns }, method, path(id), json));
      await expectUnavailable(result);
      expect(calls).toEqual(["prepareChange"]);
      expect(await d1Snapshot()).toBe(before);
      expect(logs).toContainEqual(expect.objectContaining({ degraded: "key_object_unavailable", key_id: id }));
    },
  );

  it("after D1 (revoke): 503; while out of step the object refuses a stale copy; a retry completes without a second audit row", async () => {
    const { apiKey, id } = await mintKey();
    const stale = await warm(apiKey);
    const { ns } = breakingKeyObjects({ applyChange: "throw" });
    const { result, logs } = await capturingLogs(() =>
      adminWith({ KEY_OBJECT: ns }, "POST", `/keys/${id}/revoke`, { reason: "leaked" }),
    );
    await expectUnavailable(result);
    expect(logs).toContainEqual(expect.objectContaining({ degraded: "propagation_incomplete", key_id: id }));
    expect(await statusOf(id)).toBe("revoked");
    expect(await auditRows(id)).toBe(2); // create + revoke, in one batch each

    // Another location still reads the active copy from KV, and the object never heard of the revocation.
    await restoreStaleCopy(apiKey, id, stale);
    const first = gateway("/api/v1/x", apiKey);
    expect((await problemOf(await first.response)).code).toBe("key_revoked");
    expect(await originSaw(first.trace)).toBe(false);
    // The object's announcement survives its eviction.
    await evictDurableObject(env.KEY_OBJECT.get(env.KEY_OBJECT.idFromName(id)));
    await restoreStaleCopy(apiKey, id, stale);
    expect((await problemOf(await call("/api/v1/x", { headers: { "X-API-Key": apiKey } }))).code).toBe("key_revoked");

    const retried = await adminWith({}, "POST", `/keys/${id}/revoke`, { reason: "again" });
    expect(retried.status).toBe(200);
    expect(((await retried.json()) as KeyView).revoke_reason).toBe("leaked");
    expect(await auditRows(id)).toBe(2);
    expect(await env.KEY_CACHE.get(kvKeyFor(await sha256Hex(apiKey)))).toBeNull();
  });

  it("after D1 (disable, then enable): the object follows D1 both ways while pushes fail", async () => {
    const { apiKey, id } = await mintKey();
    const stale = await warm(apiKey);
    const { ns } = breakingKeyObjects({ applyChange: "throw" });
    await expectUnavailable(await adminWith({ KEY_OBJECT: ns }, "POST", `/keys/${id}/disable`));
    await restoreStaleCopy(apiKey, id, stale);
    expect((await problemOf(await call("/api/v1/x", { headers: { "X-API-Key": apiKey } }))).code).toBe("key_disabled");

    await expectUnavailable(await adminWith({ KEY_OBJECT: ns }, "POST", `/keys/${id}/enable`));
    await restoreStaleCopy(apiKey, id, stale);
    expect((await call("/api/v1/x", { headers: { "X-API-Key": apiKey } })).status).toBe(200);
    expect(await auditRows(id)).toBe(3);
  });

  it("after D1 (update): a narrowed key is never served with its old, wider settings", async () => {
    const { apiKey, id } = await mintKey({ scopes: ["read", "write"] });
    const stale = await warm(apiKey);
    const { ns } = breakingKeyObjects({ applyChange: "throw" });
    await expectUnavailable(await adminWith({ KEY_OBJECT: ns }, "PATCH", `/keys/${id}`, { scopes: ["read"] }));
    await restoreStaleCopy(apiKey, id, stale);
    const { trace, response } = gateway("/api/v1/x", apiKey, { method: "POST" });
    expect((await problemOf(await response)).code).toBe("insufficient_scope");
    expect(await originSaw(trace)).toBe(false);
    // The retry of a PATCH is the same PATCH: it applies again (a second version and audit row), and answers 200.
    expect((await adminWith({}, "PATCH", `/keys/${id}`, { scopes: ["read"] })).status).toBe(200);
  });

  it("after D1 (rotate with no grace): the successor is answered, and the old key is refused at once", async () => {
    const { apiKey, id } = await mintKey();
    const stale = await warm(apiKey);
    const { ns } = breakingKeyObjects({ applyChange: "throw" });
    const { result, logs } = await capturingLogs(() =>
      adminWith({ KEY_OBJECT: ns }, "POST", `/keys/${id}/rotate`, { grace_period_hours: 0 }),
    );
    expect(result.status).toBe(201);
    expect(logs).toContainEqual(expect.objectContaining({ degraded: "propagation_incomplete", key_id: id }));
    const { api_key: successor } = (await result.json()) as RotateKeyResult;
    await restoreStaleCopy(apiKey, id, stale);
    expect((await problemOf(await call("/api/v1/x", { headers: { "X-API-Key": apiKey } }))).code).toBe("key_expired");
    expect((await call("/api/v1/x", { headers: { "X-API-Key": successor } })).status).toBe(200);
  });
});

describe("Cloudflare Access keys unreachable", () => {
  it("an Access JWT is refused 401 (never admitted), with a log line; the admin token still works", async () => {
    const b64 = (v: unknown) => btoa(JSON.stringify(v)).replaceAll("=", "").replaceAll("+", "-").replaceAll("/", "_");
    const jwt = `${b64({ alg: "RS256", kid: `kid-${crypto.randomUUID()}`, typ: "JWT" })}.${b64({ email: "ops@example.com" })}.c2ln`;
    // The team's certs endpoint answers 503 (the origin fixture's down.hooks.test).
    const access = { ACCESS_TEAM_DOMAIN: "https://down.hooks.test", ACCESS_AUD: "aud-1" };
    const ctx = createExecutionContext();
    const { result, logs } = await capturingLogs(async () =>
      worker.fetch(
        new Request(`${BASE}/admin/v1/keys`, { headers: { "Cf-Access-Jwt-Assertion": jwt } }),
        { ...env, ...access } as Cloudflare.Env,
        ctx,
      ),
    );
    await waitOnExecutionContext(ctx);
    expect(result.status).toBe(401);
    expect((await problemOf(result)).code).toBe("admin_unauthorized");
    expect(logs).toContainEqual(expect.objectContaining({ degraded: "access_keys_unavailable" }));
    expect((await adminWith(access, "GET", "/keys")).status).toBe(200);
  });
});
