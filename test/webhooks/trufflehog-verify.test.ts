/** truffleHog's verification call (POST /webhooks/trufflehog/verify). */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { generateKey } from "../../src/keys/format";
import { admin, callWith, gatewayStatus, mintKey, problemOf } from "../helpers";

const TOKEN = "trufflehog-verify-token-0123456789";
const PATH = "/webhooks/trufflehog/verify";
let ipCounter = 0;

function verify(
  matches: string[],
  { token = TOKEN, overrides = {}, ip }: { token?: string; overrides?: Partial<Cloudflare.Env>; ip?: string } = {},
) {
  return callWith({ TRUFFLEHOG_VERIFY_TOKEN: TOKEN, ...overrides }, PATH, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${token}`,
      "Content-Type": "application/json",
      "CF-Connecting-IP": ip ?? `192.0.2.${++ipCounter % 250}`,
    },
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
    const response = await verify([k.apiKey, k.apiKey], {
      overrides: { NOTIFY_WEBHOOK_URL: hook, NOTIFY_WEBHOOK_SECRET: "s" },
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
    expect(await eventsOf(k.id)).toEqual([{ source: "trufflehog", outcome: "recorded", revoked_at: null }]);
    expect(await gatewayStatus(k.apiKey)).toBe(200);
    const deliveries = (
      (await (await env.ORIGIN!.fetch("https://hooks.test/__deliveries")).json()) as { url: string; body: string }[]
    ).filter((d) => d.url === hook);
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
