/**
 * `expires_in_seconds` on create and rotate (src/operations/new-key.ts): short-lived keys for CI jobs and
 * other automation, within MAX_KEY_LIFETIME_DAYS and the consumer's max_lifetime_days.
 */
import { describe, expect, it } from "vitest";
import type { RotateKeyResult } from "../../src/operations/rotate-key";
import { DAY_MS, SECOND_MS } from "../../src/util/time";
import { testClock } from "../clock";
import { ADMIN_TOKEN, admin, callWith, countingD1, mintKey, problemOf } from "../helpers";
import { env } from "cloudflare:workers";
import { countKeys, through } from "./helpers";

const lifetimeOf = (key: { created_at: string; expires_at: string }) =>
  Date.parse(key.expires_at) - Date.parse(key.created_at);

async function fieldErrors(response: Response): Promise<string[]> {
  expect(response.status).toBe(400);
  const body = (await problemOf(response)) as unknown as { code: string; errors: { path: string }[] };
  expect(body.code).toBe("invalid_request");
  return body.errors.map((e) => e.path);
}

describe("happy path", () => {
  it("a 10-minute key works, then is refused as key_expired at its tenth minute", async () => {
    const { apiKey, key } = await mintKey({ expires_in_seconds: 600 });
    expect(lifetimeOf(key)).toBe(600 * SECOND_MS);
    expect((await through(apiKey)).status).toBe(200);
    testClock.advance(599 * SECOND_MS);
    expect((await through(apiKey)).status).toBe(200);
    testClock.advance(SECOND_MS);
    const refused = await through(apiKey);
    expect(refused.status).toBe(401);
    expect((await problemOf(refused)).code).toBe("key_expired");
  });

  it("a rotation's successor may be short-lived too", async () => {
    const { id } = await mintKey();
    const response = await admin(`/keys/${id}/rotate`, { json: { expires_in_seconds: 3600, grace_period_hours: 0 } });
    expect(response.status).toBe(201);
    const rotated = (await response.json()) as RotateKeyResult;
    expect(lifetimeOf(rotated.key)).toBe(3600 * SECOND_MS);
  });
});

describe("errors", () => {
  it("refuses less than 60 s, or both lifetimes at once, with field errors, and mints nothing", async () => {
    const before = await countKeys();
    expect(await fieldErrors(await admin("/keys", { json: { owner_id: "o", expires_in_seconds: 59 } }))).toEqual([
      "expires_in_seconds",
    ]);
    const both = await admin("/keys", { json: { owner_id: "o", expires_in_seconds: 600, expires_in_days: 1 } });
    expect((await fieldErrors(both)).sort()).toEqual(["expires_in_days", "expires_in_seconds"]);
    const { id } = await mintKey();
    const rotateBoth = await admin(`/keys/${id}/rotate`, { json: { expires_in_seconds: 600, expires_in_days: 1 } });
    expect((await fieldErrors(rotateBoth)).sort()).toEqual(["expires_in_days", "expires_in_seconds"]);
    expect(await countKeys()).toBe(before + 1); // only the key minted to be rotated
  });

  it("MAX_KEY_LIFETIME_DAYS bounds it, checked before anything is read", async () => {
    const { db, counter } = countingD1(env.DB);
    const response = await callWith({ MAX_KEY_LIFETIME_DAYS: "1", DB: db }, "/admin/v1/keys", {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ owner_id: "o", expires_in_seconds: DAY_MS / SECOND_MS + 1 }),
    });
    expect(await fieldErrors(response)).toEqual(["expires_in_seconds"]);
    expect(counter.statements).toBe(0);
    const atTheBound = await callWith({ MAX_KEY_LIFETIME_DAYS: "1" }, "/admin/v1/keys", {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ owner_id: "o", expires_in_seconds: DAY_MS / SECOND_MS }),
    });
    expect(atTheBound.status).toBe(201);
  });

  it("the consumer's key_policy.max_lifetime_days bounds it at create and rotate (409 key_policy_violation)", async () => {
    const owner = `short-${crypto.randomUUID()}`;
    const created = await admin("/consumers", { json: { id: owner, key_policy: { max_lifetime_days: 1 } } });
    expect(created.status).toBe(201);
    const tooLong = await admin("/keys", { json: { owner_id: owner, expires_in_seconds: 2 * 86_400 } });
    expect(tooLong.status).toBe(409);
    expect(((await problemOf(tooLong)) as unknown as { rule: string }).rule).toBe("max_lifetime_days");
    const { id, key } = await mintKey({ owner_id: owner, expires_in_seconds: 86_400 });
    expect(lifetimeOf(key)).toBe(DAY_MS);
    const rotation = await admin(`/keys/${id}/rotate`, { json: { expires_in_seconds: 86_401 } });
    expect(rotation.status).toBe(409);
    expect(((await problemOf(rotation)) as unknown as { rule: string }).rule).toBe("max_lifetime_days");
  });
});
