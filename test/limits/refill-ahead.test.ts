/**
 * Refill ahead and one call at a time (src/limits/leases.ts): a busy key's next lease is fetched in the
 * background, no request waits for it, and a burst at an empty lease does not take a lease per request.
 */
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { clearIsolateCaches } from "../../src/keys/lookup";
import { LEASE_MS, type AcquireRequest, type KeyObject } from "../../src/limits/key-object";
import { BASE, call, mintKey } from "../helpers";
import { testClock } from "../clock";
import { wrappingStubs } from "../faults/wrappers";
import { DAY_MS } from "../../src/util/time";

const MILLION_PER_HOUR = [{ name: "hour", limit: 1_000_000, window_seconds: 3600 }];
/** What a million per hour allows in one lease (see leaseCap). */
const LEASE_CAP = 277;

const stubFor = (lineageId: string) => env.KEY_OBJECT.get(env.KEY_OBJECT.idFromName(lineageId));

/**
 * The real KEY_OBJECT namespace, recording every acquire() and holding refills (ahead: true) until
 * `release` is called, so a test can see what requests do while a refill is out.
 */
function gatedRefills() {
  const acquires: AcquireRequest[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const ns = wrappingStubs(env.KEY_OBJECT, (stub) => ({
    acquire: async (request: AcquireRequest) => {
      acquires.push(request);
      if (request.ahead) await gate;
      return stub.acquire(request);
    },
  }));
  return { ns, acquires, release };
}

/** A request through the Worker with KEY_OBJECT replaced, answered without waiting for its background work. */
async function getWith(ns: DurableObjectNamespace<KeyObject>, apiKey: string): Promise<number> {
  const response = await worker.fetch(
    new Request(`${BASE}/api/v1/x`, { headers: { "X-API-Key": apiKey } }),
    { ...env, KEY_OBJECT: ns } as Cloudflare.Env,
    createExecutionContext(),
  );
  await response.arrayBuffer();
  return response.status;
}

beforeEach(() => clearIsolateCaches());

describe("refill ahead", () => {
  it("requests are answered from held tokens while a refill is out, and one that finds none asks for its own token", async () => {
    const { apiKey } = await mintKey({ rate_limits: MILLION_PER_HOUR });
    testClock.advanceToNextWindow(3600);
    const { ns, acquires, release } = gatedRefills();
    expect(await getWith(ns, apiKey)).toBe(200); // first sight: one token
    expect(await getWith(ns, apiKey)).toBe(200); // now a lease of LEASE_CAP
    expect(acquires.map((a) => a.ahead ?? false)).toEqual([false, false]);

    testClock.advance(LEASE_MS / 2 + 1); // half the lease's time gone: the next spend starts a refill
    const statuses: number[] = [];
    for (let i = 0; i < LEASE_CAP - 1; i++) statuses.push(await getWith(ns, apiKey));
    expect(statuses.every((s) => s === 200)).toBe(true);
    const refills = acquires.filter((a) => a.ahead);
    expect(refills).toHaveLength(1); // one refill at a time, however many spends found it due

    // The lease is spent and the refill still out: the next request asks the object for its own token only.
    expect(await getWith(ns, apiKey)).toBe(200);
    const last = acquires[acquires.length - 1]!;
    expect(last).toMatchObject({ want: 1 });
    expect(last.ahead ?? false).toBe(false);
    release();
  });

  it("a refill's grant is counted: a change to the key waits it out, even a grant of one token", async () => {
    const { id } = await mintKey({ rate_limits: [{ name: "hour", limit: 1000, window_seconds: 3600 }] });
    testClock.advance(3 * LEASE_MS); // the object started well before this grant
    const stub = stubFor(id);
    const refill = await stub.acquire({ keyId: id, version: 1, want: 5, ahead: true });
    expect(refill).toMatchObject({ ok: true, granted: 1 }); // a thousand per hour: one-token leases
    const { leasesExpireAt } = await stub.applyChange({
      id,
      version: 2,
      status: "revoked",
      expires_at: testClock.now() + DAY_MS,
      grace_until: null,
      rate_limits: [{ name: "hour", limit: 1000, window_seconds: 3600 }],
    });
    expect(leasesExpireAt).toBeGreaterThanOrEqual(refill.ok ? refill.leaseExpiresAt : Number.POSITIVE_INFINITY);
  });

  it("a refill gets nothing while a change is announced and not yet pushed", async () => {
    const { id } = await mintKey({ rate_limits: MILLION_PER_HOUR });
    const stub = stubFor(id);
    await stub.prepareChange(id);
    expect(await stub.acquire({ keyId: id, version: 1, want: 50, ahead: true })).toMatchObject({
      ok: false,
      code: "stale",
    });
    // A request's own token is still decided (on D1's copy), without a lease.
    expect(await stub.acquire({ keyId: id, version: 1, want: 50 })).toMatchObject({ ok: true, granted: 1 });
  });
});

describe("one call at a time", () => {
  it("a burst at a lapsed lease takes one lease from the object, not one per request", async () => {
    const { id, apiKey } = await mintKey({ rate_limits: MILLION_PER_HOUR });
    testClock.advanceToNextWindow(3600);
    const get = () => call("/api/v1/x", { headers: { "X-API-Key": apiKey } });
    for (let i = 0; i < 300; i++) expect((await get()).status).toBe(200); // a busy key: it asks for full leases
    const before = await stubFor(id).acquire({ keyId: id, version: 1, want: 1 });
    testClock.advance(LEASE_MS + 1); // every grant lapses
    const burst = await Promise.all(Array.from({ length: 30 }, get));
    expect(burst.every((r) => r.status === 200)).toBe(true);
    const after = await stubFor(id).acquire({ keyId: id, version: 1, want: 1 });
    if (!before.ok || !after.ok) throw new Error("the key's object refused");
    const taken = before.limits[0]!.remaining - after.limits[0]!.remaining - 1;
    // One full lease plus a token for each other request of the burst (and a refill at most), not 30 leases.
    expect(taken).toBeLessThanOrEqual(2 * LEASE_CAP + 30);
  });
});
