/**
 * GET /admin/v1/keys/{id}/limits and /consumers/{id}/limits (src/operations/get-limits.ts): remaining
 * limits as the objects count them, read without spending.
 */
import { describe, expect, it } from "vitest";
import type { LimitView } from "../../src/limits/limit-view";
import { testClock } from "../clock";
import { admin, mintKey, revoke } from "../helpers";
import { getJson, request } from "../monitoring/helpers";
import { itRefusesWrongCredentials } from "./helpers";

type KeyLimits = { key_id: string; limits: LimitView[] };
type ConsumerLimits = { consumer_id: string; limits: LimitView[] };

async function keyWithSharedLimits() {
  testClock.advanceToNextWindow(3600);
  const owner = `limits-${crypto.randomUUID()}`;
  const minted = await mintKey({ owner_id: owner, rate_limits: [{ name: "hour", limit: 5, window_seconds: 3600 }] });
  const patched = await admin(`/consumers/${owner}`, {
    method: "PATCH",
    json: { rate_limits: [{ name: "hour", limit: 50, window_seconds: 3600 }] },
  });
  expect(patched.status).toBe(200);
  return { ...minted, owner };
}

describe("happy path", () => {
  it("shows a key's remaining limits, then its consumer's, and reading them spends nothing", async () => {
    const { apiKey, id, owner } = await keyWithSharedLimits();
    expect(await request(apiKey)).toBe(200);
    expect(await request(apiKey)).toBe(200);
    for (let i = 0; i < 5; i++) {
      const { status, body } = await getJson<KeyLimits>(`/keys/${id}/limits`);
      expect(status).toBe(200);
      expect(body.key_id).toBe(id);
      expect(body.limits.map((l) => [l.name, l.subject, l.limit, l.remaining])).toEqual([
        ["hour", "key", 5, 3],
        ["consumer.hour", "consumer", 50, 48],
      ]);
    }
    const { status, body } = await getJson<ConsumerLimits>(`/consumers/${owner}/limits`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ consumer_id: owner, limits: [{ name: "consumer.hour", limit: 50, remaining: 48 }] });
    // The gateway still finds the tokens the reads did not take.
    for (let i = 0; i < 3; i++) expect(await request(apiKey)).toBe(200);
    expect(await request(apiKey)).toBe(429);
  });

  it("shows a revoked key's limits as they stand, and a consumer without shared limits as an empty list", async () => {
    const { id } = await mintKey({ rate_limits: [{ name: "minute", limit: 7, window_seconds: 60 }] });
    await revoke(id);
    const { body } = await getJson<KeyLimits>(`/keys/${id}/limits`);
    expect(body.limits[0]).toMatchObject({ name: "minute", remaining: 7 });
    const owner = `limits-${crypto.randomUUID()}`;
    await mintKey({ owner_id: owner });
    expect((await getJson<ConsumerLimits>(`/consumers/${owner}/limits`)).body.limits).toEqual([]);
  });
});

describe("errors", () => {
  it("an id no key or consumer has is 404", async () => {
    expect((await getJson(`/keys/key_${"A".repeat(22)}/limits`)).status).toBe(404);
    expect((await getJson(`/consumers/nobody-${crypto.randomUUID()}/limits`)).status).toBe(404);
  });
});

describe("security", () => {
  it("a credential limited to some consumers finds another's key and consumer not at all (404)", async () => {
    const mine = `limits-mine-${crypto.randomUUID()}`;
    const other = `limits-other-${crypto.randomUUID()}`;
    const own = await mintKey({ owner_id: mine });
    const theirs = await mintKey({ owner_id: other });
    const minted = await admin("/credentials", {
      json: { name: "limits-test", operations: ["keys:read", "consumers:read"], consumers: [mine], expires_in_days: 1 },
    });
    expect(minted.status).toBe(201);
    const { credential } = (await minted.json()) as { credential: string };
    const read = (path: string) => admin(path, { method: "GET", headers: { Authorization: `Bearer ${credential}` } });
    expect((await read(`/keys/${own.id}/limits`)).status).toBe(200);
    expect((await read(`/consumers/${mine}/limits`)).status).toBe(200);
    expect((await read(`/keys/${theirs.id}/limits`)).status).toBe(404);
    expect((await read(`/consumers/${other}/limits`)).status).toBe(404);
  });

  itRefusesWrongCredentials(async () => ({ method: "GET", path: `/keys/${(await mintKey()).id}/limits` }));
  itRefusesWrongCredentials(async () => ({ method: "GET", path: "/consumers/owner-1/limits" }));
});
