/**
 * A consumer's key policy at the admin API (src/operations/key-admission.ts, create-key.ts, rotate-key.ts):
 * each rule refused with nothing written, answered with a problem and a log line, never audited; the
 * defaults it sets; and max_active_keys, which a rotation's grace period does not count.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CreateKeyResult } from "../../src/operations/create-key";
import type { RotateKeyResult } from "../../src/operations/rotate-key";
import { DAY_MS } from "../../src/util/time";
import { consumerSnapshot, makeConsumer, patchConsumer } from "../admin/consumer-helpers";
import { expire } from "../admin/helpers";
import { expectRefusal } from "../hostile/expect";
import { admin, mintKey, revoke } from "../helpers";
import { capturingLogs } from "../logs";

type Problem = { code: string; rule?: string; detail?: string; errors?: { path: string; message: string }[] };

/** A create or rotation that the policy refuses: the problem, what was logged, and that nothing changed. */
async function refused(path: string, json: unknown, status: 400 | 409) {
  const before = await consumerSnapshot();
  const { result: res, logs, lines } = await capturingLogs(() => admin(path, { json }));
  await expectRefusal(res, status, status === 400 ? "invalid_request" : "key_policy_violation");
  expect(await consumerSnapshot()).toBe(before);
  const problem = (await res.json()) as Problem;
  const policyLine = logs.find((l) => l.msg === "admin.key_policy_refused");
  expect(policyLine, lines.join("\n")).toBeDefined();
  // The request log's refusal line says the same code; neither holds a key or a hash.
  expect(logs.find((l) => l.msg === "refused")).toMatchObject({ code: problem.code, status });
  for (const line of lines) expect(line).not.toMatch(/sk_(live|test)_|[0-9a-f]{64}/);
  return { problem, policyLine: policyLine! };
}

describe("allowed_* at a create: 400 naming the field", () => {
  it.each([
    ["allowed_scopes", { allowed_scopes: ["read"] }, { scopes: ["read", "write"] }, "scopes.1"],
    ["allowed_types", { allowed_types: ["publishable"] }, {}, "type"],
    ["allowed_types", { allowed_types: ["secret"] }, { type: "publishable" }, "type"],
    ["allowed_environments", { allowed_environments: ["test"] }, { environment: "live" }, "environment"],
  ])("%s %j refuses %j on %s, writes nothing, logs the rule", async (rule, key_policy, body, path) => {
    const consumer = await makeConsumer({ key_policy });
    const { problem, policyLine } = await refused("/keys", { owner_id: consumer.id, ...body }, 400);
    expect(problem.errors).toEqual([{ path, message: expect.stringContaining(`allowed_`) }]);
    expect(policyLine).toMatchObject({ consumer_id: consumer.id, rule });
  });

  it("lists every field outside the policy, one error each", async () => {
    const consumer = await makeConsumer({ key_policy: { allowed_scopes: ["read"], allowed_environments: ["test"] } });
    const { problem } = await refused("/keys", { owner_id: consumer.id, scopes: ["write", "admin"] }, 400);
    expect(problem.errors!.map((e) => e.path)).toEqual(["environment", "scopes.0", "scopes.1"]);
  });

  it("control: a key inside every list is minted", async () => {
    const consumer = await makeConsumer({
      key_policy: { allowed_scopes: ["read"], allowed_types: ["publishable"], allowed_environments: ["test"] },
    });
    const { key } = await mintKey({ owner_id: consumer.id, type: "publishable", environment: "test" });
    expect(key).toMatchObject({ type: "publishable", environment: "test", scopes: ["read"] });
  });
});

describe("max_lifetime_days", () => {
  it("caps expires_in_days: 409 key_policy_violation over it, and the default lifetime is lowered to it", async () => {
    const consumer = await makeConsumer({ key_policy: { max_lifetime_days: 30 } });
    const { problem } = await refused("/keys", { owner_id: consumer.id, expires_in_days: 31 }, 409);
    expect(problem).toMatchObject({ rule: "max_lifetime_days", detail: expect.stringContaining("30 days") });
    const { key } = await mintKey({ owner_id: consumer.id });
    expect(Date.parse(key.expires_at) - Date.parse(key.created_at)).toBe(30 * DAY_MS);
    const { key: shorter } = await mintKey({ owner_id: consumer.id, expires_in_days: 7 });
    expect(Date.parse(shorter.expires_at) - Date.parse(shorter.created_at)).toBe(7 * DAY_MS);
  });

  it("caps a rotation's successor the same way", async () => {
    const consumer = await makeConsumer();
    const { id } = await mintKey({ owner_id: consumer.id });
    await patchConsumer(consumer.id, { key_policy: { max_lifetime_days: 10 } });
    const { problem } = await refused(`/keys/${id}/rotate`, { expires_in_days: 11 }, 409);
    expect(problem.rule).toBe("max_lifetime_days");
    const res = await admin(`/keys/${id}/rotate`, { json: {} });
    expect(res.status).toBe(201);
    const { key } = (await res.json()) as RotateKeyResult;
    expect(Date.parse(key.expires_at) - Date.parse(key.created_at)).toBe(10 * DAY_MS);
  });

  it("MAX_KEY_LIFETIME_DAYS still bounds a consumer whose cap is higher (400)", async () => {
    const consumer = await makeConsumer({ key_policy: { max_lifetime_days: 3000 } });
    await expectRefusal(
      await admin("/keys", { json: { owner_id: consumer.id, expires_in_days: 366 } }),
      400,
      "invalid_request",
    );
  });
});

describe("default_rate_limits", () => {
  const DEFAULTS = [{ name: "minute", limit: 60, window_seconds: 60 }];

  it("applies to a key created without rate_limits, and not to one created with them", async () => {
    const consumer = await makeConsumer({ key_policy: { default_rate_limits: DEFAULTS } });
    expect((await mintKey({ owner_id: consumer.id })).key.rate_limits).toEqual(DEFAULTS);
    const own = [{ name: "day", limit: 5, window_seconds: 86_400 }];
    expect((await mintKey({ owner_id: consumer.id, rate_limits: own })).key.rate_limits).toEqual(own);
  });

  it("without a policy default, a key gets the authorizer's default, as before consumers", async () => {
    const consumer = await makeConsumer();
    expect((await mintKey({ owner_id: consumer.id })).key.rate_limits).toEqual([
      { name: "hour", limit: 1000, window_seconds: 3600 },
    ]);
  });
});

describe("max_active_keys", () => {
  it("refuses the key over the bound with 409, and a revoked, disabled or expired key makes room", async () => {
    const consumer = await makeConsumer({ key_policy: { max_active_keys: 2 } });
    const a = await mintKey({ owner_id: consumer.id });
    const b = await mintKey({ owner_id: consumer.id });
    const { problem, policyLine } = await refused("/keys", { owner_id: consumer.id }, 409);
    expect(problem).toMatchObject({ rule: "max_active_keys", detail: expect.stringContaining("2 live keys") });
    expect(policyLine).toMatchObject({ consumer_id: consumer.id, rule: "max_active_keys" });

    await revoke(a.id);
    const c = await mintKey({ owner_id: consumer.id });
    await admin(`/keys/${b.id}/disable`);
    const d = await mintKey({ owner_id: consumer.id });
    await expire(c.id);
    await mintKey({ owner_id: consumer.id });
    await refused("/keys", { owner_id: consumer.id }, 409);
    expect(d.id).toBeTruthy();
  });

  it("a key in its rotation grace period does not count: a rotation never fails on it", async () => {
    const consumer = await makeConsumer({ key_policy: { max_active_keys: 2 } });
    const a = await mintKey({ owner_id: consumer.id });
    await mintKey({ owner_id: consumer.id });
    const rotated = await admin(`/keys/${a.id}/rotate`, { json: { grace_period_hours: 24 } });
    expect(rotated.status).toBe(201);
    // Three live keys now (a in its grace period, its successor, b); two count, so the bound still holds.
    const { results } = await env.DB.prepare("SELECT id FROM api_keys WHERE owner_id = ? AND status = 'active'")
      .bind(consumer.id)
      .all();
    expect(results).toHaveLength(3);
    await refused("/keys", { owner_id: consumer.id }, 409);
    // The successor rotates too, at the bound.
    const successor = ((await rotated.json()) as RotateKeyResult).key.id;
    expect((await admin(`/keys/${successor}/rotate`, { json: { grace_period_hours: 0 } })).status).toBe(201);
  });

  it("0 allows no key at all", async () => {
    const consumer = await makeConsumer({ key_policy: { max_active_keys: 0 } });
    await refused("/keys", { owner_id: consumer.id }, 409);
  });

  it("two concurrent creates for the last place: exactly one is minted", async () => {
    const consumer = await makeConsumer({ key_policy: { max_active_keys: 3 } });
    await mintKey({ owner_id: consumer.id });
    await mintKey({ owner_id: consumer.id });
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => admin("/keys", { json: { owner_id: consumer.id } })),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
    for (const r of answers.filter((a) => a.status === 409)) {
      expect(((await r.json()) as Problem).rule).toBe("max_active_keys");
    }
    const { results } = await env.DB.prepare("SELECT id FROM api_keys WHERE owner_id = ?").bind(consumer.id).all();
    expect(results).toHaveLength(3);
  });
});

describe("at a rotation: the old key's settings against today's policy", () => {
  it.each([
    ["allowed_scopes", { allowed_scopes: ["read"] }],
    ["allowed_types", { allowed_types: ["publishable"] }],
    ["allowed_environments", { allowed_environments: ["test"] }],
  ])("%s: 409 key_policy_violation, nothing minted, the old key unchanged", async (rule, key_policy) => {
    const consumer = await makeConsumer();
    const { id, apiKey } = await mintKey({ owner_id: consumer.id, scopes: ["read", "write"] });
    await patchConsumer(consumer.id, { key_policy });
    const { problem } = await refused(`/keys/${id}/rotate`, {}, 409);
    expect(problem.rule).toBe(rule);
    expect(problem.detail).toMatch(/^(scopes|type|environment): /);
    const res = await admin(`/keys/${id}`, { method: "GET" });
    expect(await res.json()).toMatchObject({ rotated_to: null, grace_until: null, status: "active" });
    expect(JSON.stringify(problem)).not.toContain(apiKey);
  });
});

describe("refusals are not audited", () => {
  it("no audit row, for any refusal", async () => {
    const consumer = await makeConsumer({ key_policy: { max_active_keys: 0, allowed_scopes: [] } });
    const count = async () => (await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_log").first<{ n: number }>())!.n;
    const before = await count();
    await admin("/keys", { json: { owner_id: consumer.id, scopes: ["read"] } });
    await admin("/keys", { json: { owner_id: consumer.id, scopes: [] } });
    expect(await count()).toBe(before);
  });

  it("control: a create within the policy answers the key (and is audited)", async () => {
    const consumer = await makeConsumer({ key_policy: { max_active_keys: 1 } });
    const res = await admin("/keys", { json: { owner_id: consumer.id } });
    expect(res.status).toBe(201);
    expect(((await res.json()) as CreateKeyResult).key.owner_id).toBe(consumer.id);
  });
});
