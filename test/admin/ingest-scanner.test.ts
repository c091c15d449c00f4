/** POST /admin/v1/leaks/scanner (src/operations/ingest-findings.ts): the built-in scanner's hashes, recorded or revoked. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { generateKey } from "../../src/keys/format";
import { sha256Hex } from "../../src/keys/hash";
import type { IngestSummary } from "../../src/leaks/ingest";
import { admin, callWith, gatewayStatus, mintKey, problemOf } from "../helpers";
import { eventCount, leakSnapshot } from "./leak-helpers";
import { itRefusesWrongCredentials } from "./helpers";

describe("happy path", () => {
  it("records findings (the owner is told, the key keeps working), then revokes them with revoke: true", async () => {
    const k = await mintKey({ owner_id: "scanned-owner" });
    const hook = `https://hooks.test/${crypto.randomUUID()}`;
    const notify = { NOTIFY_WEBHOOK_URL: hook, NOTIFY_WEBHOOK_SECRET: "whsec-test" };
    const send = (body: unknown) =>
      callWith(notify, "/admin/v1/leaks/scanner", {
        method: "POST",
        headers: { Authorization: "Bearer test-admin-token-0123456789", "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    const findings = [
      { key_hash: await sha256Hex(k.apiKey), location: "src/config.ts:12" },
      { key_hash: await sha256Hex(generateKey("", "secret", "live")), location: "src/other.ts:1" },
    ];
    const recorded = (await (await send({ findings })).json()) as IngestSummary;
    expect(recorded.results.map((r) => r.status)).toEqual(["recorded", "no_match"]);
    expect(await gatewayStatus(k.apiKey)).toBe(200);
    const row = await env.DB.prepare("SELECT source, outcome, revoked_at, location FROM leak_events WHERE key_id = ?")
      .bind(k.id)
      .first();
    expect(row).toEqual({ source: "scanner", outcome: "recorded", revoked_at: null, location: "src/config.ts:12" });

    const revoked = (await (await send({ findings, revoke: true })).json()) as IngestSummary;
    expect(revoked.results.map((r) => [r.status, r.duplicate])).toEqual([
      ["revoked", false],
      ["no_match", true],
    ]);
    expect(await gatewayStatus(k.apiKey)).toBe(401);
    const after = await env.DB.prepare("SELECT outcome, revoked_at FROM leak_events WHERE key_id = ?")
      .bind(k.id)
      .all<{ outcome: string; revoked_at: number | null }>();
    expect(after.results).toHaveLength(1);
    expect(after.results[0]!.outcome).toBe("revoked");
    expect(after.results[0]!.revoked_at).not.toBeNull();

    const deliveries = (
      (await (await env.ORIGIN!.fetch("https://hooks.test/__deliveries")).json()) as { url: string; body: string }[]
    ).filter((d) => d.url === hook);
    expect(deliveries.map((d) => JSON.parse(d.body).data.revoked)).toEqual([false, true]);
  });

  it("a receiver that is down does not stop or undo the revocation; delivery is retried", async () => {
    const k = await mintKey();
    const hook = `https://down.hooks.test/${crypto.randomUUID()}`;
    const response = await callWith(
      { NOTIFY_WEBHOOK_URL: hook, NOTIFY_WEBHOOK_SECRET: "whsec-test" },
      "/admin/v1/leaks/scanner",
      {
        method: "POST",
        headers: { Authorization: "Bearer test-admin-token-0123456789", "Content-Type": "application/json" },
        body: JSON.stringify({
          findings: [{ key_hash: await sha256Hex(k.apiKey), location: "src/a.ts:1" }],
          revoke: true,
        }),
      },
    );
    expect(((await response.json()) as IngestSummary).results.map((r) => r.status)).toEqual(["revoked"]);
    expect(await gatewayStatus(k.apiKey)).toBe(401);
    const attempts = (
      (await (await env.ORIGIN!.fetch("https://hooks.test/__deliveries")).json()) as { url: string }[]
    ).filter((d) => d.url === hook);
    expect(attempts).toHaveLength(3); // every attempt failed (503); callWith waited for the retries
  });
});

describe("errors", () => {
  it.each([
    ["no findings", { findings: [] }],
    ["an unknown field", { findings: [{ key_hash: "0".repeat(64), location: "a:1" }], also: true }],
    ["a location with a control character", { findings: [{ key_hash: "0".repeat(64), location: "a\u0000b" }] }],
    ["revoke that is not a boolean", { findings: [{ key_hash: "0".repeat(64), location: "a:1" }], revoke: "yes" }],
  ])("refuses %s with 400, recording nothing", async (_label, body) => {
    const before = await eventCount();
    const response = await admin("/leaks/scanner", { json: body });
    expect(response.status).toBe(400);
    expect((await problemOf(response)).code).toBe("invalid_request");
    expect(await eventCount()).toBe(before);
  });
});

describe("security", () => {
  itRefusesWrongCredentials(
    async () => ({
      method: "POST",
      path: "/leaks/scanner",
      json: { findings: [{ key_hash: await sha256Hex((await mintKey()).apiKey), location: "a:1" }], revoke: true },
    }),
    leakSnapshot,
  );

  it("accepts hashes only: a key in the body is refused and nothing is recorded", async () => {
    const k = await mintKey();
    const before = await eventCount();
    const response = await admin("/leaks/scanner", { json: { findings: [{ key_hash: k.apiKey, location: "a:1" }] } });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).not.toContain(k.apiKey);
    expect(await eventCount()).toBe(before);
  });
});
