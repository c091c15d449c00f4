/** POST /admin/v1/leaks/gitleaks (src/operations/ingest-findings.ts): the full keys of a gitleaks report are revoked. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { generateKey } from "../../src/keys/format";
import { sha256Hex } from "../../src/keys/hash";
import type { IngestSummary } from "../../src/leaks/ingest";
import { LEAK_ROUTE_LIMITS } from "../../src/leaks/route-limit";
import { admin, gatewayStatus, mintKey, problemOf } from "../helpers";
import { eventCount, leakSnapshot } from "./leak-helpers";
import { itRefusesWrongCredentials } from "./helpers";

/** A gitleaks finding as gitleaks 8.x writes it, including fields this authorizer does not read. */
function finding(secret: string, overrides: Record<string, unknown> = {}) {
  const line = Math.floor(Math.random() * 1e6);
  return {
    RuleID: "edge-key-authorizer-sk-live",
    Description: "edge-key-authorizer live secret key",
    StartLine: line,
    EndLine: line,
    StartColumn: 10,
    EndColumn: 67,
    Match: `API_KEY=${secret}`,
    Secret: secret,
    File: "config/.env",
    SymlinkFile: "",
    Commit: "0123456789abcdef0123456789abcdef01234567",
    Link: "",
    Entropy: 5.1,
    Author: "dev",
    Email: "dev@example.com",
    Date: "2026-11-20T10:00:00Z",
    Message: "add config",
    Tags: ["edge-key-authorizer", "live", "secret", "critical"],
    Fingerprint: `0123456789abcdef0123456789abcdef01234567:config/.env:edge-key-authorizer-sk-live:${line}`,
    Fragment: "new in a later version",
    ...overrides,
  };
}

const gitleaks = (report: unknown, headers: Record<string, string> = {}) =>
  admin("/leaks/gitleaks", { json: report, headers });

describe("happy path", () => {
  it("revokes only keys whose full Secret is in the report, with one result per finding", async () => {
    const leaked = await mintKey();
    const redacted = await mintKey();
    const unknown = generateKey("", "secret", "live");
    const response = await gitleaks([
      finding(leaked.apiKey, { Link: "https://github.com/o/r/blob/0123/config/.env#L3" }),
      finding("REDACTED", { Fingerprint: `x:${redacted.id}:1` }),
      finding(redacted.apiKey.slice(0, 20)),
      finding(`${redacted.apiKey.slice(0, -4)}****`),
      finding(unknown),
      finding("AKIAIOSFODNN7EXAMPLE", { RuleID: "aws-access-token" }),
    ]);
    expect(response.status).toBe(200);
    const body = (await response.json()) as IngestSummary;
    expect(body.results.map((r) => r.status)).toEqual([
      "revoked",
      "not_a_key",
      "not_a_key",
      "not_a_key",
      "no_match",
      "not_a_key",
    ]);
    expect(body.results[0]!.key_id).toBe(leaked.id);
    expect(body.counts).toMatchObject({ revoked: 1, no_match: 1, not_a_key: 4, duplicate: 0 });
    expect(await gatewayStatus(leaked.apiKey)).toBe(401);
    expect(await gatewayStatus(redacted.apiKey)).toBe(200);
    const event = await env.DB.prepare("SELECT source, location, outcome, revoked_at FROM leak_events WHERE key_id = ?")
      .bind(leaked.id)
      .first();
    expect(event).toMatchObject({
      source: "gitleaks",
      location: "https://github.com/o/r/blob/0123/config/.env#L3",
      outcome: "revoked",
    });
    expect(event!.revoked_at).not.toBeNull();
    const audit = await env.DB.prepare(
      "SELECT actor FROM audit_log WHERE subject_type = 'key' AND subject_id = ? AND action = 'revoke'",
    )
      .bind(leaked.id)
      .first();
    expect(audit?.actor).toBe("ADMIN_TOKEN");
  });

  it("is idempotent on the same findings, and tells two keys on one line apart", async () => {
    const a = await mintKey();
    const b = await mintKey();
    const shared = "0123:config/.env:edge-key-authorizer-sk-live:7";
    const report = [finding(a.apiKey, { Fingerprint: shared }), finding(b.apiKey, { Fingerprint: shared })];
    const first = (await (await gitleaks(report)).json()) as IngestSummary;
    expect(first.results.map((r) => r.status)).toEqual(["revoked", "revoked"]);
    const before = await eventCount();
    const replay = (await (await gitleaks(report)).json()) as IngestSummary;
    expect(replay.results.map((r) => [r.status, r.duplicate])).toEqual([
      ["revoked", true],
      ["revoked", true],
    ]);
    expect(replay.counts.duplicate).toBe(2);
    expect(await eventCount()).toBe(before);
  });
});

describe("errors", () => {
  it.each([
    ["not an array", { findings: [] }],
    ["a Secret of the wrong type", [{ Secret: 5 }]],
    ["a StartLine of the wrong type", [{ Secret: "x", StartLine: "12" }]],
    ["a finding that is not an object", ["sk_live_x"]],
    ["too many findings", Array.from({ length: 5001 }, () => ({ Secret: "x" }))],
  ])("refuses %s whole, revoking nothing", async (_label, garbage) => {
    const k = await mintKey();
    const report = Array.isArray(garbage) ? [finding(k.apiKey), ...garbage] : garbage;
    const before = await eventCount();
    const response = await gitleaks(report);
    expect(response.status).toBe(400);
    expect((await problemOf(response)).code).toBe("invalid_request");
    expect(await gatewayStatus(k.apiKey)).toBe(200);
    expect(await eventCount()).toBe(before);
  });

  it("refuses a huge body with 413 and a non-JSON body with 415, revoking nothing", async () => {
    const k = await mintKey();
    const huge = [finding(k.apiKey, { Message: "x".repeat(4 * 1024 * 1024) })];
    expect((await gitleaks(huge)).status).toBe(413);
    const text = await admin("/leaks/gitleaks", {
      body: JSON.stringify([finding(k.apiKey)]),
      headers: { "Content-Type": "text/plain" },
    });
    expect(text.status).toBe(415);
    expect(await gatewayStatus(k.apiKey)).toBe(200);
  });

  it("is rate-limited per caller", async () => {
    const headers = { "CF-Connecting-IP": "198.51.100.77" };
    for (let i = 0; i < LEAK_ROUTE_LIMITS.ingest; i++) expect((await gitleaks([], headers)).status).toBe(200);
    const limited = await gitleaks([], headers);
    expect(limited.status).toBe(429);
    expect((await problemOf(limited)).code).toBe("rate_limited");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await gitleaks([], { "CF-Connecting-IP": "198.51.100.78" })).status).toBe(200);
  });
});

describe("security", () => {
  itRefusesWrongCredentials(
    async () => ({ method: "POST", path: "/leaks/gitleaks", json: [finding((await mintKey()).apiKey)] }),
    leakSnapshot,
  );

  it("stores no key in an event, even when gitleaks puts one in the file name or fingerprint", async () => {
    const k = await mintKey();
    await gitleaks([finding(k.apiKey, { File: `keys/${k.apiKey}.txt`, Fingerprint: `c:keys/${k.apiKey}.txt:r:1` })]);
    const row = await env.DB.prepare("SELECT fingerprint, location FROM leak_events WHERE key_id = ?")
      .bind(k.id)
      .first<{ fingerprint: string; location: string }>();
    expect(row!.location).toContain(`keys/sk_live_…${k.apiKey.slice(-4)}.txt`);
    expect(JSON.stringify(row)).not.toContain(k.apiKey);
    expect(JSON.stringify(row)).not.toContain(await sha256Hex(k.apiKey));
  });

  it("needs the admin credential", async () => {
    const response = await admin("/leaks/gitleaks", { json: [], headers: { Authorization: "Bearer wrong" } });
    expect(response.status).toBe(401);
  });
});
