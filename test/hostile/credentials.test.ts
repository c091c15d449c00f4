/**
 * Hostile credentials through the real gateway and the RPC entrypoint: oversized, duplicated or conflicting
 * headers, an empty Bearer, characters no key can hold (control and space characters, homoglyphs and
 * zero-width characters), and a key in the query beside a header key. Each is refused with
 * its documented code, before any storage read, without reaching the origin or echoing what was sent.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { clearIsolateCaches } from "../../src/keys/lookup";
import { AuthService } from "../../src/rpc/auth-service";
import { callWith, countingD1, countingKV, mintKey, originSaw } from "../helpers";
import { d1Snapshot } from "../faults/wrappers";
import { expectRefusal } from "./expect";

let valid: { apiKey: string; id: string };

beforeEach(async () => {
  clearIsolateCaches();
  valid ??= await mintKey();
});

/** A gateway request with these headers, counting storage reads; the origin fixture remembers the trace. */
async function send(headers: [string, string][], path = "/api/v1/x") {
  const d1 = countingD1(env.DB);
  const kv = countingKV(env.KEY_CACHE);
  const trace = crypto.randomUUID();
  const h = new Headers(headers);
  h.set("X-Test-Trace", trace);
  const res = await callWith({ DB: d1.db, KEY_CACHE: kv.kv }, path, { headers: h });
  return { res, reads: d1.counter.statements + kv.counter.gets, reached: await originSaw(trace) };
}

/** The key with the character at `at` (negative: from the end) replaced by `text`. */
const swapAt = (key: string, at: number, text: string) => key.slice(0, at) + text + key.slice(key.length + at + 1);

describe("credential headers", () => {
  it.each<[string, () => [string, string][]]>([
    [
      "a valid key and another in the other header",
      () => [
        ["X-API-Key", valid.apiKey],
        ["Authorization", `Bearer ${valid.apiKey}x`],
      ],
    ],
    [
      "X-API-Key twice (the valid key and junk)",
      () => [
        ["X-API-Key", valid.apiKey],
        ["X-API-Key", "junk"],
      ],
    ],
    [
      "X-API-Key twice, the same valid key",
      () => [
        ["X-API-Key", valid.apiKey],
        ["X-API-Key", valid.apiKey],
      ],
    ],
    [
      "Authorization twice",
      () => [
        ["Authorization", `Bearer ${valid.apiKey}`],
        ["Authorization", "Bearer other"],
      ],
    ],
    [
      "an empty Bearer beside a valid X-API-Key",
      () => [
        ["X-API-Key", valid.apiKey],
        ["Authorization", "Bearer "],
      ],
    ],
    [
      "an empty X-API-Key beside a valid Bearer",
      () => [
        ["X-API-Key", ""],
        ["Authorization", `Bearer ${valid.apiKey}`],
      ],
    ],
    ["a valid key followed by a NEL (U+0085)", () => [["X-API-Key", `${valid.apiKey}\u0085`]]],
    [
      "a valid key with a no-break space inside",
      () => [["X-API-Key", `${valid.apiKey.slice(0, 20)}\u00a0${valid.apiKey.slice(20)}`]],
    ],
    ["a valid key with a BOM in front", () => [["X-API-Key", `\ufeff${valid.apiKey}`]]],
    ["a valid key with an ideographic space after it", () => [["X-API-Key", `${valid.apiKey}\u3000`]]],
    [
      "a valid key with a line separator (U+2028) inside",
      () => [["X-API-Key", `${valid.apiKey.slice(0, 20)}\u2028${valid.apiKey.slice(20)}`]],
    ],
  ])("%s: 400 malformed_request, no storage read, origin untouched", async (_label, headers) => {
    const before = await d1Snapshot();
    const { res, reads, reached } = await send(headers());
    await expectRefusal(res, 400, "malformed_request", [valid.apiKey]);
    expect(reads).toBe(0);
    expect(reached).toBe(false);
    expect(await d1Snapshot()).toBe(before);
  });

  it.each<[string, () => string]>([
    ["a Cyrillic 'а' in the body", () => swapAt(valid.apiKey, -20, "\u0430")],
    ["a fullwidth '1' in the body", () => swapAt(valid.apiKey, -20, "\uff11")],
    ["a Greek omicron in the checksum", () => swapAt(valid.apiKey, -3, "\u03bf")],
    ["a zero-width space inside", () => `${valid.apiKey.slice(0, 20)}\u200b${valid.apiKey.slice(20)}`],
    ["a zero-width joiner after it", () => `${valid.apiKey}\u200d`],
    ["Latin-1 'é' inside", () => `${valid.apiKey.slice(0, 30)}\u00e9${valid.apiKey.slice(31)}`],
    ["the key in upper case", () => valid.apiKey.toUpperCase()],
    ["64 KB of key characters", () => "A".repeat(64 * 1024)],
    ["the key repeated twice without a separator", () => valid.apiKey + valid.apiKey],
  ])("%s: 401 invalid_key before any storage read", async (_label, key) => {
    const presented = key();
    const { res, reads, reached } = await send([["X-API-Key", presented]]);
    await expectRefusal(res, 401, "invalid_key", [valid.apiKey, presented]);
    expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="api", error="invalid_token"');
    expect(reads).toBe(0);
    expect(reached).toBe(false);
  });

  it("an oversized Authorization header is refused as well, and its value is not echoed", async () => {
    const big = `Bearer ${"x".repeat(32 * 1024)}`;
    const { res, reads, reached } = await send([["Authorization", big]]);
    await expectRefusal(res, 401, "invalid_key", ["x".repeat(64)]);
    expect([reads, reached]).toEqual([0, false]);
  });

  it.each(["api_key", "API_KEY", "api%5Fkey", "Token", "access_token", "x-api-key", "key"])(
    "a credential in the query (%s) beside a valid header key: 400 key_in_query, origin untouched, the key recorded as exposed",
    async (name) => {
      const { res, reached } = await send([["X-API-Key", valid.apiKey]], `/api/v1/x?${name}=${valid.apiKey}`);
      await expectRefusal(res, 400, "key_in_query", [valid.apiKey]);
      expect(reached).toBe(false);
      // After the answer, the key seen in the URL is looked up and recorded (src/leaks/query-exposure.ts).
      const event = await env.DB.prepare(
        "SELECT outcome FROM leak_events WHERE key_id = ? AND source = 'gateway_query'",
      )
        .bind(valid.id)
        .first<{ outcome: string }>();
      expect(event?.outcome).toBe("recorded");
    },
  );

  it("control: the same valid key alone is admitted, so the refusals above are about the hostile part", async () => {
    const { res, reached } = await send([["X-API-Key", valid.apiKey]]);
    expect(res.status).toBe(200);
    expect(reached).toBe(true);
  });
});

describe("credentials over RPC (strings that no header could carry)", () => {
  async function verify(key: string) {
    const d1 = countingD1(env.DB);
    const ctx = createExecutionContext();
    const decision = await new AuthService(ctx, { ...env, DB: d1.db } as Cloudflare.Env).verify({
      key,
      method: "GET",
      path: "/api/v1/x",
    });
    await waitOnExecutionContext(ctx);
    return { decision, reads: d1.counter.statements };
  }

  it.each<[string, () => string]>([
    ["a NUL after the key", () => `${valid.apiKey}\u0000`],
    ["CR LF and a header after the key", () => `${valid.apiKey}\r\nX-Admin: 1`],
    ["a zero-width space inside", () => `${valid.apiKey.slice(0, 20)}\u200b${valid.apiKey.slice(20)}`],
    ["a zero-width joiner at the end", () => `${valid.apiKey}\u200d`],
    ["a Cyrillic 'а' in the body", () => swapAt(valid.apiKey, -20, "\u0430")],
    ["a right-to-left override inside", () => `${valid.apiKey.slice(0, 25)}\u202e${valid.apiKey.slice(25)}`],
    ["a fullwidth 'Ａ' in the body (NFKC folds it to 'A')", () => swapAt(valid.apiKey, -20, "\uff21")],
  ])("%s: invalid_key, never valid, no D1 read", async (_label, key) => {
    const { decision, reads } = await verify(key());
    expect(decision).toEqual({ valid: false, code: "invalid_key" });
    expect(reads).toBe(0);
  });

  it("control: the key itself is valid over RPC", async () => {
    expect((await verify(valid.apiKey)).decision.valid).toBe(true);
  });
});
