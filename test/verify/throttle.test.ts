/**
 * The refusal throttle keeps floods of made-up keys off KV and D1, and nothing else: it counts only refusals
 * that had to read storage and throttles only that read, so a key the isolate already knows is decided as
 * usual for every client behind a throttled address. Each test uses addresses of its own (the throttle's
 * counts are per isolate and outlive a test).
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { generateKey } from "../../src/keys/format";
import { clearIsolateCaches } from "../../src/keys/lookup";
import { callWith, countingD1, countingKV, mintKey, problemOf, revoke } from "../helpers";

const LIMIT = 3;

/** Bindings counted, and the throttle at LIMIT refusals per window. */
function counted() {
  const d1 = countingD1(env.DB);
  const kv = countingKV(env.KEY_CACHE);
  const settings = { REFUSAL_THROTTLE_LIMIT: String(LIMIT), DB: d1.db, KEY_CACHE: kv.kv };
  const from = async (ip: string, apiKey: string) => {
    const res = await callWith(settings, "/api/v1/x", { headers: { "X-API-Key": apiKey, "CF-Connecting-IP": ip } });
    return {
      status: res.status,
      code: res.status === 200 ? "valid" : (await problemOf(res)).code,
      retryAfter: res.headers.get("Retry-After"),
    };
  };
  const reads = () => ({ d1: d1.counter.statements, kv: kv.counter.gets });
  return { from, reads };
}

/** A key with a valid checksum that was never minted: each distinct one costs a storage read. */
const unknownKey = () => generateKey("", "secret", "live");

/** Puts the address over the throttle with LIMIT distinct unknown keys. */
async function trip(from: (ip: string, key: string) => Promise<{ status: number }>, ip: string) {
  for (let i = 0; i < LIMIT; i++) expect((await from(ip, unknownKey())).status).toBe(401);
}

beforeEach(() => clearIsolateCaches());

describe("a flood of unknown keys", () => {
  it("reads storage until the address is over the limit, then is refused 429 with no KV or D1 read", async () => {
    const { from, reads } = counted();
    const ip = "198.51.100.10";
    const before = reads();
    await trip(from, ip);
    const afterTrip = reads();
    expect(afterTrip.d1 - before.d1).toBe(LIMIT);
    expect(afterTrip.kv - before.kv).toBe(LIMIT);
    for (let i = 0; i < 50; i++) {
      const answer = await from(ip, unknownKey());
      expect(answer).toMatchObject({ status: 429, code: "rate_limited" });
      expect(Number(answer.retryAfter)).toBeGreaterThan(0);
    }
    expect(reads()).toEqual(afterTrip);
  });

  it("counts an IPv6 client by its /64, and leaves other clients alone", async () => {
    const { from } = counted();
    const { apiKey } = await mintKey();
    await trip(from, "2001:db8:7:1::1");
    // Another address in the same /64 is the same client: a key this isolate does not know is not looked up.
    expect(await from("2001:db8:7:1::99", apiKey)).toMatchObject({ status: 429, code: "rate_limited" });
    expect((await from("2001:db8:7:2::1", apiKey)).status).toBe(200);
    expect((await from("203.0.113.70", apiKey)).status).toBe(200);
  });

  it("does not count refusals that cost no read: bad checksums and hashes remembered as unknown", async () => {
    const { from, reads } = counted();
    const ip = "198.51.100.11";
    const remembered = unknownKey();
    expect((await from(ip, remembered)).status).toBe(401); // one read, counted
    const before = reads();
    for (let i = 0; i < 20; i++) {
      expect(await from(ip, remembered)).toMatchObject({ status: 401, code: "invalid_key" }); // the negative cache
      expect(await from(ip, `sk_live_${"A".repeat(43)}000000`)).toMatchObject({ status: 401, code: "invalid_key" }); // checksum
    }
    expect(reads()).toEqual(before);
    const { apiKey } = await mintKey();
    expect((await from(ip, apiKey)).status).toBe(200);
  });
});

describe("a valid neighbour behind a throttled address", () => {
  it("whose key the isolate has cached stays admitted", async () => {
    const { from } = counted();
    const ip = "198.51.100.12";
    const { apiKey } = await mintKey();
    expect((await from(ip, apiKey)).status).toBe(200); // admitted a moment before: cached
    await trip(from, ip);
    for (let i = 0; i < 5; i++) expect((await from(ip, apiKey)).status).toBe(200);
  });

  it("whose copy has lapsed is refused 429 until the window ends (the remaining edge), and admitted elsewhere", async () => {
    const { from, reads } = counted();
    const ip = "198.51.100.13";
    const { apiKey } = await mintKey();
    expect((await from(ip, apiKey)).status).toBe(200);
    await trip(from, ip);
    clearIsolateCaches(); // as after ISOLATE_CACHE_TTL_MS, or in a new isolate
    const before = reads();
    expect(await from(ip, apiKey)).toMatchObject({ status: 429, code: "rate_limited" });
    expect(reads()).toEqual(before);
    expect((await from("198.51.100.14", apiKey)).status).toBe(200);
  });

  it("a revoked key hammered from the address does not trip the throttle while it is cached", async () => {
    const { from, reads } = counted();
    const ip = "198.51.100.15";
    const revoked = await mintKey();
    expect((await revoke(revoked.id)).status).toBe(200);
    expect(await from(ip, revoked.apiKey)).toMatchObject({ status: 401, code: "key_revoked" }); // read once, counted
    const before = reads();
    for (let i = 0; i < 30; i++)
      expect(await from(ip, revoked.apiKey)).toMatchObject({ status: 401, code: "key_revoked" });
    expect(reads()).toEqual(before);
    // A neighbour whose key this isolate has never seen still gets its lookup.
    const neighbour = await mintKey();
    expect((await from(ip, neighbour.apiKey)).status).toBe(200);
  });

  it("a cached refusal is answered as cached for a throttled address, and the hash remembered as unknown too", async () => {
    const { from, reads } = counted();
    const ip = "198.51.100.16";
    const revoked = await mintKey();
    expect((await revoke(revoked.id)).status).toBe(200);
    const unknown = unknownKey();
    // Another client teaches this isolate both answers.
    expect((await from("198.51.100.17", revoked.apiKey)).code).toBe("key_revoked");
    expect((await from("198.51.100.17", unknown)).code).toBe("invalid_key");
    await trip(from, ip);
    const before = reads();
    expect(await from(ip, revoked.apiKey)).toMatchObject({ status: 401, code: "key_revoked" });
    expect(await from(ip, unknown)).toMatchObject({ status: 401, code: "invalid_key" });
    expect(reads()).toEqual(before);
  });
});
