/**
 * The log as an attack surface: values an attacker controls cannot break a line or forge another one, keys
 * and hashes never reach it, and every refusal and admin mutation leaves exactly one structured line.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateCredential, generateKey } from "../../src/keys/format";
import { sha256Hex } from "../../src/keys/hash";
import { formatLogLine, logRefusal, MAX_LOG_VALUE_LENGTH, REFUSAL_LOG_LINES_PER_SECOND } from "../../src/util/log";
import { admin, call, mintKey, problemOf } from "../helpers";
import { linesWithKeys } from "../key-guard";
import { capturingLogs } from "../logs";
import { testClock } from "../clock";

describe("formatLogLine", () => {
  it("writes any value as one line that parses back to it: CR, LF, NUL, U+2028 and U+2029 are escaped (property)", () => {
    const hostile = fc.string({
      unit: fc.constantFrom("a", "\r", "\n", "\u0000", "\u2028", "\u2029", "\u001b", '"', "\\", "}", " "),
    });
    fc.assert(
      fc.property(hostile, hostile, (msg, value) => {
        const line = formatLogLine("info", msg, { code: value });
        expect(line).not.toMatch(/[\r\n\u0000\u2028\u2029\u001b]/);
        const parsed = JSON.parse(line) as Record<string, unknown>;
        expect(parsed.msg).toBe(msg.slice(0, MAX_LOG_VALUE_LENGTH));
        expect(parsed.code).toBe(value.slice(0, MAX_LOG_VALUE_LENGTH));
        expect(Object.keys(parsed)).toEqual(["level", "msg", "code"]);
      }),
    );
  });

  it("a value cannot add a field or a second line, however it is crafted", () => {
    const line = formatLogLine("info", "refused", { code: 'x","level":"error"}\n{"msg":"forged' });
    expect(line.split("\n")).toHaveLength(1);
    expect(JSON.parse(line)).toMatchObject({ level: "info", msg: "refused" });
  });

  it("replaces a key of any vendor, type or environment, and a SHA-256 hash, wherever they appear", async () => {
    for (const key of [generateKey("", "secret", "live"), generateKey("acme", "publishable", "test")]) {
      const hash = await sha256Hex(key);
      const line = formatLogLine("warn", `saw ${key}`, {
        key_id: `${hash}`,
        code: `prefix-${key}-suffix`,
        setting: hash.toUpperCase(),
      });
      expect(line).not.toContain(key);
      expect(line.toLowerCase()).not.toContain(hash);
      expect(JSON.parse(line)).toMatchObject({
        msg: "saw [redacted]",
        key_id: "[redacted]",
        code: "prefix-[redacted]-suffix",
      });
    }
  });

  it("replaces a scoped admin credential of any vendor, whole or cut short, and its hash", async () => {
    for (const credential of [generateCredential(""), generateCredential("acme"), generateCredential("other")]) {
      const hash = await sha256Hex(credential);
      const line = formatLogLine("warn", `Bearer ${credential}`, {
        actor: credential,
        code: `x-${credential.slice(0, -20)}`,
        key_id: hash,
      });
      expect(line).not.toContain(credential.slice(-30, -20));
      expect(line.toLowerCase()).not.toContain(hash);
      expect(JSON.parse(line)).toMatchObject({
        msg: "Bearer [redacted]",
        actor: "[redacted]",
        code: "x-[redacted]",
        key_id: "[redacted]",
      });
    }
  });

  it("keeps ordinary ids and codes as they are (the redaction is not so wide that lines say nothing)", () => {
    const line = formatLogLine("info", "admin.mutation", {
      key_id: "key_4qNFfftVLP20UuxYtkp5pl",
      code: "revoke",
      status: 200,
    });
    expect(JSON.parse(line)).toEqual({
      level: "info",
      msg: "admin.mutation",
      key_id: "key_4qNFfftVLP20UuxYtkp5pl",
      code: "revoke",
      status: 200,
    });
  });

  it("counts carry only well-formed names with finite numbers: a key cannot ride in as a name or a value", () => {
    const key = generateKey("", "secret", "live");
    const counts = { pruned_alerts: 3, [key]: 1, "Bad-Name": 2, lost: Number.NaN, sneaky: key as unknown as number };
    const line = formatLogLine("info", "scheduled.done", { counts });
    expect(line).not.toContain(key);
    expect(JSON.parse(line)).toEqual({ level: "info", msg: "scheduled.done", counts: { pruned_alerts: 3 } });
  });
});

describe("the request log", () => {
  it("writes one 'refused' line per gateway refusal, with the body's request id and code", async () => {
    const unknown = generateKey("", "secret", "live");
    const { result, logs } = await capturingLogs(async () => [
      await call("/api/v1/x"),
      await call("/api/v1/x", { headers: { "X-API-Key": unknown } }),
      await call("/api/v1/x?api_key=abc"),
      await call("/api/v1/x", { method: "PROPFIND" }),
    ]);
    const refused = logs.filter((l) => l.msg === "refused");
    expect(refused).toHaveLength(4);
    for (const [i, res] of result.entries()) {
      const body = await problemOf(res);
      expect(refused[i]).toMatchObject({ request_id: body.request_id, code: body.code, status: res.status });
    }
    expect(JSON.stringify(logs)).not.toContain(unknown);
  });

  it("writes one 'admin.mutation' line per change (key id, action, actor), and none for reads", async () => {
    const { result, logs } = await capturingLogs(async () => {
      const minted = await mintKey();
      await admin(`/keys/${minted.id}`, { method: "PATCH", json: { name: "renamed" } });
      await admin(`/keys/${minted.id}/disable`);
      await admin(`/keys/${minted.id}`, { method: "GET" });
      await admin(`/keys/${minted.id}/revoke`);
      return minted;
    });
    const mutations = logs.filter((l) => l.msg === "admin.mutation");
    expect(mutations.map((l) => [l.key_id, l.code, l.actor])).toEqual([
      [result.id, "create", "ADMIN_TOKEN"],
      [result.id, "update", "ADMIN_TOKEN"],
      [result.id, "disable", "ADMIN_TOKEN"],
      [result.id, "revoke", "ADMIN_TOKEN"],
    ]);
    expect(JSON.stringify(logs)).not.toContain(result.apiKey);
    const hash = (await env.DB.prepare("SELECT key_hash FROM api_keys WHERE id = ?")
      .bind(result.id)
      .first<{ key_hash: string }>())!.key_hash;
    expect(JSON.stringify(logs)).not.toContain(hash);
  });

  it("an admin refusal names the key and the action it refused", async () => {
    const { id } = await mintKey();
    await admin(`/keys/${id}/revoke`);
    const { result, logs } = await capturingLogs(() => admin(`/keys/${id}`, { method: "PATCH", json: { name: "x" } }));
    expect(result.status).toBe(409);
    expect(logs.filter((l) => l.msg === "refused")).toEqual([
      expect.objectContaining({
        key_id: id,
        code: "key_state_conflict",
        status: 409,
        request_id: (await problemOf(result)).request_id,
      }),
    ]);
  });
});

describe("a flood of refusals", () => {
  it("writes at most REFUSAL_LOG_LINES_PER_SECOND lines a second, then one line counting the rest by code", async () => {
    testClock.advanceToNextWindow(1); // the start of a second no other test used
    const extra = { invalid_key: 30, key_revoked: 7 };
    const { logs } = await capturingLogs(async () => {
      for (let i = 0; i < REFUSAL_LOG_LINES_PER_SECOND; i++) logRefusal("info", { code: "invalid_key", status: 401 });
      for (const [code, n] of Object.entries(extra))
        for (let i = 0; i < n; i++) logRefusal("info", { code, status: 401 });
      testClock.advance(1_000);
      logRefusal("info", { code: "missing_api_key", status: 401 });
    });
    const refused = logs.filter((l) => l.msg === "refused");
    expect(refused).toHaveLength(REFUSAL_LOG_LINES_PER_SECOND + 1);
    expect(refused.at(-1)).toMatchObject({ code: "missing_api_key" });
    const summary = logs.filter((l) => l.msg === "refused.suppressed");
    expect(summary).toEqual([
      { level: "warn", msg: "refused.suppressed", count: 37, counts: { invalid_key: 30, key_revoked: 7 } },
    ]);
  });
});

describe("the key guard (test/key-guard.ts)", () => {
  const flipped = (secret: string) => secret.slice(0, -1) + (secret.endsWith("0") ? "1" : "0");

  it("flags a line holding an admin credential of any vendor, as it flags a key", () => {
    for (const secret of [
      generateCredential(""),
      generateCredential("acme"),
      generateKey("acme", "secret", "live"),
      generateKey("", "publishable", "test"),
    ]) {
      const line = `{"level":"info","msg":"x","code":"saw ${secret} here"}`;
      expect(linesWithKeys(["nothing here", line])).toEqual([line]);
    }
  });

  it("lets pass a credential-shaped string with a bad checksum, or one cut short", () => {
    const credential = generateCredential("acme");
    expect(linesWithKeys([`a ${flipped(credential)} b`, `a ${credential.slice(0, -1)} b`, "ak_ and acme_ak_"])).toEqual(
      [],
    );
  });
});
