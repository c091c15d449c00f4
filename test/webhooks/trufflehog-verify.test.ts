/** truffleHog's verification call and its JSON-lines results. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { generateKey } from "../../src/keys/format";
import { admin, callWith, gatewayStatus, mintKey, problemOf } from "../helpers";

const TOKEN = "trufflehog-verify-token-0123456789";
const PATH = "/webhooks/trufflehog/verify";
let ipCounter = 0;

function verify(matches: string[], { token = TOKEN, overrides = {}, ip }: { token?: string; overrides?: Partial<Cloudflare.Env>; ip?: string } = {}) {
  return callWith({ TRUFFLEHOG_VERIFY_TOKEN: TOKEN, ...overrides }, PATH, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "CF-Connecting-IP": ip ?? `192.0.2.${++ipCounter % 250}` },
    // As truffleHog sends it: detector name → regex name → [full match, capture group].
    body: JSON.stringify({ EdgeKeyAuthorizer_sk_live: { key: matches } }),
  });
}
const eventsOf = async (id: string) =>
  (await env.DB.prepare("SELECT source, outcome, revoked_at FROM leak_events WHERE key_id = ?").bind(id).all()).results;

describe("POST /webhooks/trufflehog/verify", () => {
  it("answers 200 for a live key, records the find and tells the owner, and leaves the key live by default", async () => {
    const k = await mintKey({ owner_id: "th-owner" });
    const hook = `https://hooks.test/${crypto.randomUUID()}`;
    const response = await verify([k.apiKey, k.apiKey], { overrides: { NOTIFY_WEBHOOK_URL: hook, NOTIFY_WEBHOOK_SECRET: "s" } });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
    expect(await eventsOf(k.id)).toEqual([{ source: "trufflehog", outcome: "recorded", revoked_at: null }]);
    expect(await gatewayStatus(k.apiKey)).toBe(200);
    const deliveries = ((await (await env.ORIGIN!.fetch("https://hooks.test/__deliveries")).json()) as { url: string; body: string }[]).filter((d) => d.url === hook);
    expect(deliveries.map((d) => JSON.parse(d.body).data)).toMatchObject([{ source: "trufflehog", revoked: false }]);
    // The same key verified again the same day is the same event.
    expect((await verify([k.apiKey])).status).toBe(200);
    expect(await eventsOf(k.id)).toHaveLength(1);
  });

  it("revokes the key too when TRUFFLEHOG_REVOKE_ON_VERIFY is true", async () => {
    const k = await mintKey();
    const response = await verify([k.apiKey], { overrides: { TRUFFLEHOG_REVOKE_ON_VERIFY: "true" } });
    expect(response.status).toBe(200);
    expect(await gatewayStatus(k.apiKey)).toBe(401);
    expect((await eventsOf(k.id))[0]).toMatchObject({ outcome: "revoked" });
    // Revoked, it is no longer live.
    expect((await verify([k.apiKey])).status).toBe(403);
  });

  it("answers 403, and records nothing, for anything that is not a live key", async () => {
    const revoked = await mintKey();
    await admin(`/keys/${revoked.id}/revoke`);
    const disabled = await mintKey();
    await admin(`/keys/${disabled.id}/disable`);
    for (const m of [[generateKey("", "secret", "live")], [revoked.apiKey], [disabled.apiKey], ["not a key"], []]) {
      const response = await verify(m);
      expect(response.status, JSON.stringify(m)).toBe(403);
      expect(await response.text()).toBe("");
    }
    expect(await eventsOf(revoked.id)).toHaveLength(0);
    expect(await eventsOf(disabled.id)).toHaveLength(0);
  });

  it("needs the token (401), is off without one (404), refuses a malformed body (400), and is rate-limited", async () => {
    const k = await mintKey();
    const wrong = await verify([k.apiKey], { token: "wrong-token-wrong-token" });
    expect(wrong.status).toBe(401);
    expect((await problemOf(wrong)).code).toBe("webhook_unauthorized");
    expect((await verify([k.apiKey], { overrides: { TRUFFLEHOG_VERIFY_TOKEN: undefined } })).status).toBe(404);
    const malformed = await callWith({ TRUFFLEHOG_VERIFY_TOKEN: TOKEN }, PATH, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}`, "CF-Connecting-IP": "192.0.2.251" },
      body: JSON.stringify({ d: { key: [5] } }),
    });
    expect(malformed.status).toBe(400);
    expect(await eventsOf(k.id)).toHaveLength(0);

    let limited: Response | undefined;
    for (let i = 0; i < 200 && !limited; i++) {
      const response = await verify(["x"], { ip: "203.0.113.9" });
      if (response.status === 429) limited = response;
    }
    expect(limited).toBeDefined();
    expect((await problemOf(limited!)).code).toBe("rate_limited");
  });
});

describe("POST /admin/v1/leaks/trufflehog", () => {
  const line = (raw: string, file: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      SourceMetadata: { Data: { Git: { commit: "fbc14303ffbf8fb1c2c1914e8dda7d0121633aca", file, email: "a <a@b>", repository: "https://github.com/o/r", timestamp: "2026-11-20", line: 4 } } },
      SourceID: 1,
      SourceType: 16,
      SourceName: "trufflehog - git",
      DetectorType: 1000,
      DetectorName: "EdgeKeyAuthorizer_sk_live",
      DecoderName: "PLAIN",
      Verified: false,
      Raw: raw,
      RawV2: "",
      Redacted: "",
      ExtraData: null,
      StructuredData: null,
      ...extra,
    });
  const ingest = (body: string) => admin("/leaks/trufflehog", { body, headers: { "Content-Type": "application/x-ndjson" } });

  it("revokes the live keys of its JSON lines, one result per line, idempotently", async () => {
    const k = await mintKey();
    const jsonl = [line(k.apiKey, "config.yml"), "", line("AKIAYVP4CIPPERUVIFXG", "keys", { DetectorName: "AWS" }), line(generateKey("", "secret", "live"), "x")].join("\n");
    const response = await ingest(jsonl);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { results: { status: string; duplicate: boolean }[] };
    expect(body.results.map((r) => r.status)).toEqual(["revoked", "not_a_key", "no_match"]);
    expect(await gatewayStatus(k.apiKey)).toBe(401);
    const row = await env.DB.prepare("SELECT location FROM leak_events WHERE key_id = ?").bind(k.id).first<{ location: string }>();
    expect(row!.location).toBe("https://github.com/o/r config.yml:4 @ fbc14303ffbf");
    const replay = (await (await ingest(jsonl)).json()) as { results: { duplicate: boolean }[] };
    expect(replay.results.map((r) => r.duplicate)).toEqual([true, false, true]);
  });

  it("refuses the whole report, revoking nothing, when one line is not valid", async () => {
    const k = await mintKey();
    for (const bad of ["{not json", JSON.stringify({ Raw: 5 }), "[1]"]) {
      const response = await ingest([line(k.apiKey, "a"), bad].join("\n"));
      expect(response.status).toBe(400);
      const problem = (await response.json()) as { errors: { path: string }[] };
      expect(problem.errors[0]!.path).toMatch(/^line 2/);
    }
    expect((await admin("/leaks/trufflehog", { json: {} })).status).toBe(415);
    expect(await gatewayStatus(k.apiKey)).toBe(200);
  });
});
