/** A key of this authorizer seen in a URL query string at the gateway: refused, recorded, its owner told. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { generateKey } from "../../src/keys/format";
import { callWith, gatewayStatus, mintKey, originSaw, problemOf } from "../helpers";

const eventsOf = async (id: string) =>
  (
    await env.DB.prepare("SELECT source, outcome, location, revoked_at FROM leak_events WHERE key_id = ?")
      .bind(id)
      .all()
  ).results;
const eventCount = async () =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM leak_events").first<{ n: number }>())!.n;

function inQuery(query: string, overrides: Partial<Cloudflare.Env> = {}) {
  const trace = crypto.randomUUID();
  const response = callWith(overrides, `/api/v1/things?${query}`, {
    headers: { "X-Test-Trace": trace, "CF-Connecting-IP": "198.51.100.20" },
  });
  return { trace, response };
}

describe("a key in the query string", () => {
  it("is refused as before, then recorded as an exposure and its owner told; the key stays live by default", async () => {
    const k = await mintKey({ owner_id: "careless" });
    const hook = `https://hooks.test/${crypto.randomUUID()}`;
    const { trace, response } = inQuery(`page=2&api_key=${k.apiKey}`, {
      NOTIFY_WEBHOOK_URL: hook,
      NOTIFY_WEBHOOK_SECRET: "s",
    });
    const refused = await response;
    expect(refused.status).toBe(400);
    expect((await problemOf(refused)).code).toBe("key_in_query");
    expect(await originSaw(trace)).toBe(false);

    expect(await eventsOf(k.id)).toEqual([
      { source: "gateway_query", outcome: "recorded", location: "GET /api/v1/things", revoked_at: null },
    ]);
    const deliveries = (
      (await (await env.ORIGIN!.fetch("https://hooks.test/__deliveries")).json()) as { url: string; body: string }[]
    ).filter((d) => d.url === hook);
    expect(deliveries).toHaveLength(1);
    expect(JSON.parse(deliveries[0]!.body)).toMatchObject({
      type: "key.exposed",
      owner_id: "careless",
      key_id: k.id,
      data: { source: "gateway_query", revoked: false },
    });
    expect(deliveries[0]!.body).not.toContain(k.apiKey);
    expect(await gatewayStatus(k.apiKey)).toBe(200);

    // The same mistake again the same day is the same exposure.
    await (await inQuery(`token=${k.apiKey}`).response).body?.cancel();
    expect(await eventsOf(k.id)).toHaveLength(1);
  });

  it("revokes the key when REVOKE_ON_QUERY_EXPOSURE is true", async () => {
    const k = await mintKey();
    await (await inQuery(`key=${k.apiKey}`, { REVOKE_ON_QUERY_EXPOSURE: "true" }).response).body?.cancel();
    expect(await gatewayStatus(k.apiKey)).toBe(401);
    expect((await eventsOf(k.id))[0]).toMatchObject({ outcome: "revoked" });
  });

  it("redacts keys in the path from the stored location and the owner's notice, percent-encoded ones too", async () => {
    const k = await mintKey({ owner_id: "path-owner" });
    const other = await mintKey();
    const encoded = `%${other.apiKey.charCodeAt(0).toString(16)}${other.apiKey.slice(1)}`; // "%73k_live_…"
    const hook = `https://hooks.test/${crypto.randomUUID()}`;
    const path = `/api/v1/${other.apiKey}/x/${encoded}`;
    const refused = await callWith(
      { NOTIFY_WEBHOOK_URL: hook, NOTIFY_WEBHOOK_SECRET: "s" },
      `${path}?api_key=${k.apiKey}`,
      {
        headers: { "CF-Connecting-IP": "198.51.100.21" },
      },
    );
    expect(refused.status).toBe(400);
    await refused.body?.cancel();

    const [event] = (await eventsOf(k.id)) as { location: string }[];
    const tail = other.apiKey.slice(-4);
    expect(event!.location).toBe(`GET /api/v1/sk_live_…${tail}/x/sk_live_…${tail}`);
    const stored = JSON.stringify(await env.DB.prepare("SELECT * FROM leak_events WHERE key_id = ?").bind(k.id).all());
    expect(stored).not.toContain(other.apiKey.slice(8));
    const deliveries = (
      (await (await env.ORIGIN!.fetch("https://hooks.test/__deliveries")).json()) as { url: string; body: string }[]
    ).filter((d) => d.url === hook);
    expect(deliveries).toHaveLength(1);
    expect(JSON.parse(deliveries[0]!.body).data.location).toBe(event!.location);
    expect(deliveries[0]!.body).not.toContain(other.apiKey.slice(8));
  });

  it("leaves no event for unknown keys, look-alikes, or values that are no key", async () => {
    const before = await eventCount();
    for (const query of [`api_key=${generateKey("", "secret", "live")}`, "api_key=sk_live_abc", "token=hunter2"]) {
      const refused = await inQuery(query).response;
      expect(refused.status).toBe(400);
      await refused.body?.cancel();
    }
    expect(await eventCount()).toBe(before);
  });
});
