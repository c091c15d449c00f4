import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { flushNow } from "../../src/monitoring/flush";
import { MAX_PENDING_ROWS, countDecision, takeBatchIfDue } from "../../src/monitoring/usage";
import type { UsageReport } from "../../src/monitoring/usage-store";
import type { KeyUsageResult } from "../../src/operations/usage";
import { BASE, countingD1, mintKey, revoke } from "../helpers";
import { flush, getJson, request } from "./helpers";
import { testClock } from "../clock";
import { utcDay } from "../../src/util/time";

type DailyKeyUsage = Extract<KeyUsageResult, { granularity: "day" }>;

async function totals(): Promise<UsageReport> {
  const { status, body } = await getJson<UsageReport>("/usage");
  expect(status).toBe(200);
  return body;
}

beforeEach(async () => {
  await flush(); // counts left by earlier tests land before this test's baseline is read
});

describe("usage rollups", () => {
  it("counts each decision per key, day and outcome, and unknown-key refusals per code only", async () => {
    const before = await totals();
    const reader = await mintKey({ scopes: ["read"] });
    const gone = await mintKey({ scopes: ["read"] });
    expect((await revoke(gone.id)).status).toBe(200);

    for (let i = 0; i < 3; i++) expect(await request(reader.apiKey)).toBe(200);
    for (let i = 0; i < 2; i++) expect(await request(reader.apiKey, { method: "POST" })).toBe(403); // needs write
    for (let i = 0; i < 2; i++) expect(await request(gone.apiKey)).toBe(401);
    expect(await request(null)).toBe(401);
    expect(await request(`${reader.apiKey.slice(0, -1)}${reader.apiKey.endsWith("A") ? "B" : "A"}`)).toBe(401); // bad checksum
    await flush();

    const today = utcDay(testClock.now());
    const mine = await getJson<DailyKeyUsage>(`/keys/${reader.id}/usage?from=${today}&to=${today}`);
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({
      key_id: reader.id,
      from: today,
      to: today,
      total: 5,
      outcomes: { valid: 3, insufficient_scope: 2 },
    });
    expect(mine.body.days).toEqual([{ day: today, total: 5, outcomes: { insufficient_scope: 2, valid: 3 } }]);
    const revoked = await getJson<DailyKeyUsage>(`/keys/${gone.id}/usage`);
    expect(revoked.body.outcomes).toEqual({ key_revoked: 2 });
    expect(revoked.body.days).toHaveLength(30); // the default range, zero days included
    expect(revoked.body.days.at(-1)!.day).toBe(today);

    const after = await totals();
    const delta = (code: string) => (after.outcomes[code] ?? 0) - (before.outcomes[code] ?? 0);
    expect(delta("valid")).toBe(3);
    expect(delta("insufficient_scope")).toBe(2);
    expect(delta("key_revoked")).toBe(2);
    expect(delta("missing_api_key")).toBe(1);
    expect(delta("invalid_key")).toBe(1);
    expect(after.total - before.total).toBe(9);
    const unkeyed = await env.DB.prepare(
      "SELECT outcome, SUM(count) AS n FROM usage_daily WHERE key_id = '' GROUP BY outcome",
    ).all();
    expect(unkeyed.results.map((r) => r.outcome).sort()).toEqual(["invalid_key", "missing_api_key"]);
  });

  it("counts decisions made over RPC (AuthService.verify) the same way", async () => {
    const before = await totals();
    const key = await mintKey({ scopes: ["read"] });
    const verify = async (params: Record<string, unknown>) => {
      const response = await env.CALLER.fetch("https://caller.test/", { method: "POST", body: JSON.stringify(params) });
      return ((await response.json()) as { code: string }).code;
    };
    expect(await verify({ key: key.apiKey, method: "GET", path: "/api/v1/x", ip: "203.0.113.1" })).toBe("valid");
    expect(await verify({ key: key.apiKey, method: "DELETE", path: "/api/v1/x" })).toBe("insufficient_scope");
    expect(await verify({ key: "", method: "GET", path: "/api/v1/x" })).toBe("missing_api_key");
    await flush();
    expect((await getJson<KeyUsageResult>(`/keys/${key.id}/usage`)).body.outcomes).toEqual({
      valid: 1,
      insufficient_scope: 1,
    });
    const after = await totals();
    expect((after.outcomes.missing_api_key ?? 0) - (before.outcomes.missing_api_key ?? 0)).toBe(1);
  });

  it("never writes D1 per request: the counts leave in one batch of upserts", async () => {
    const key = await mintKey({ scopes: ["read"] });
    const { db, sql } = countingD1(env.DB);
    const overrides = { ...env, DB: db } as Cloudflare.Env;
    for (let i = 0; i < 20; i++) {
      const ctx = createExecutionContext();
      const response = await worker.fetch(
        new Request(`${BASE}/api/v1/x`, { headers: { "X-API-Key": key.apiKey } }),
        overrides,
        ctx,
      );
      expect(response.status).toBe(200);
      await waitOnExecutionContext(ctx);
    }
    expect(sql.filter((s) => /usage_hourly|usage_daily|key_networks|UPDATE api_keys/.test(s))).toEqual([]);

    const ctx = createExecutionContext();
    await flushNow(overrides, (p) => ctx.waitUntil(p), testClock.now());
    await waitOnExecutionContext(ctx);
    const writes = sql.filter((s) => /^\s*INSERT INTO (usage_hourly|usage_daily|key_networks)/.test(s));
    expect(writes).toHaveLength(3);
    const usage = await getJson<KeyUsageResult>(`/keys/${key.id}/usage`);
    expect(usage.body.outcomes).toEqual({ valid: 20 });
  });

  it("hands a batch over as soon as it reaches MAX_PENDING_ROWS, before the interval", async () => {
    const now = testClock.now();
    for (let i = 0; i < MAX_PENDING_ROWS - 1; i++)
      countDecision(null, `test_outcome_${i}`, { ip: null, asn: null, country: null }, now);
    expect(takeBatchIfDue(now)).toBeNull();
    countDecision(null, "test_outcome_last", { ip: null, asn: null, country: null }, now);
    const batch = takeBatchIfDue(now);
    expect(batch?.counts.size).toBe(MAX_PENDING_ROWS);
    expect(takeBatchIfDue(now)).toBeNull(); // handed over once
  });
});
