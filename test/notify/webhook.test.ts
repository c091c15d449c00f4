import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { notifyOwner } from "../../src/notify/webhook";
import { hmacSha256Hex } from "../../src/util/secrets";

interface Delivery {
  url: string;
  headers: Record<string, string>;
  body: string;
}

async function deliveriesTo(url: string): Promise<Delivery[]> {
  const response = await env.ORIGIN!.fetch("https://hooks.test/__deliveries");
  return ((await response.json()) as Delivery[]).filter((d) => d.url === url);
}

async function send(overrides: Partial<Cloudflare.Env>, type: string) {
  const ctx = createExecutionContext();
  notifyOwner({ ...env, ...overrides } as Cloudflare.Env, (p) => ctx.waitUntil(p), {
    type,
    owner_id: "owner-1",
    key_id: "key_abc",
    data: { source: "github" },
  });
  await waitOnExecutionContext(ctx);
}

describe("owner notifications", () => {
  it("POSTs the event signed over its timestamp and raw body", async () => {
    const url = `https://hooks.test/${crypto.randomUUID()}`;
    await send({ NOTIFY_WEBHOOK_URL: url, NOTIFY_WEBHOOK_SECRET: "whsec-test" }, "key.leaked");
    const [delivery, ...rest] = await deliveriesTo(url);
    expect(rest).toHaveLength(0);
    const event = JSON.parse(delivery!.body);
    expect(event).toMatchObject({
      type: "key.leaked",
      owner_id: "owner-1",
      key_id: "key_abc",
      data: { source: "github" },
    });
    expect(delivery!.headers["x-authorizer-event-id"]).toBe(event.id);
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(delivery!.headers["x-authorizer-signature"]!)!;
    expect(v1).toBe(await hmacSha256Hex("whsec-test", `${t}.${delivery!.body}`));
    expect(v1).not.toBe(await hmacSha256Hex("another-secret", `${t}.${delivery!.body}`));
  });

  it("retries a receiver that is down a bounded number of times, with the same event id", async () => {
    const url = `https://down.hooks.test/${crypto.randomUUID()}`;
    await send({ NOTIFY_WEBHOOK_URL: url, NOTIFY_WEBHOOK_SECRET: "whsec-test" }, "key.leaked");
    const attempts = await deliveriesTo(url);
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.headers["x-authorizer-event-id"])).size).toBe(1);
  });

  it("sends nothing unsigned: a URL without a secret delivers nothing", async () => {
    const url = `https://hooks.test/${crypto.randomUUID()}`;
    await send({ NOTIFY_WEBHOOK_URL: url, NOTIFY_WEBHOOK_SECRET: undefined }, "key.leaked");
    expect(await deliveriesTo(url)).toHaveLength(0);
  });
});
