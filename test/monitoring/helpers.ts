/** Monitoring test helpers: flushing this isolate's counts, and reading what a flush wrote. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { flushNow } from "../../src/monitoring/flush";
import { admin, call } from "../helpers";
import { testClock } from "../clock";
import { DAY_MS } from "../../src/util/time";

/** Flushes every count this isolate holds (as the scheduled job does) and waits for its background work. */
export async function flush(overrides: Partial<Cloudflare.Env> = {}): Promise<void> {
  const ctx = createExecutionContext();
  await flushNow({ ...env, ...overrides } as Cloudflare.Env, (p) => ctx.waitUntil(p), testClock.now());
  await waitOnExecutionContext(ctx);
}

/** A gateway request with a key and a client address; answers the status. */
export async function request(
  apiKey: string | null,
  init: { path?: string; method?: string; ip?: string } = {},
): Promise<number> {
  const headers = new Headers();
  if (apiKey !== null) headers.set("X-API-Key", apiKey);
  if (init.ip) headers.set("CF-Connecting-IP", init.ip);
  const response = await call(init.path ?? "/api/v1/things", { method: init.method ?? "GET", headers });
  await response.body?.cancel();
  return response.status;
}

export async function getJson<T = Record<string, unknown>>(path: string): Promise<{ status: number; body: T }> {
  const response = await admin(path, { method: "GET" });
  return { status: response.status, body: (await response.json()) as T };
}

export interface Delivery {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Webhook deliveries the origin fixture received for one URL, parsed. */
export async function eventsAt(
  url: string,
): Promise<{ type: string; owner_id: string; key_id?: string; data: Record<string, unknown> }[]> {
  const response = await env.ORIGIN!.fetch("https://hooks.test/__deliveries");
  return ((await response.json()) as Delivery[]).filter((d) => d.url === url).map((d) => JSON.parse(d.body));
}

/** A fresh webhook receiver on the fixture, so each test sees only its own deliveries. */
export function hook(): Partial<Cloudflare.Env> & { url: string } {
  const url = `https://hooks.test/${crypto.randomUUID()}`;
  return { url, NOTIFY_WEBHOOK_URL: url, NOTIFY_WEBHOOK_SECRET: "whsec-monitoring-test" };
}

/**
 * Puts a consumer row straight into D1 (the consumer routes are another part's): inserted, or its fields set
 * if the key-create path made it already.
 */
export async function putConsumer(
  id: string,
  fields: { rate_limits?: unknown[]; status?: "active" | "disabled" | "deleted" } = {},
): Promise<void> {
  const now = testClock.now();
  await env.DB.prepare(
    `INSERT INTO consumers (id, rate_limits, status, created_at, updated_at, deleted_at) VALUES (?1, ?2, ?3, ?4, ?4, ?5)
     ON CONFLICT (id) DO UPDATE SET rate_limits = excluded.rate_limits, status = excluded.status,
       deleted_at = excluded.deleted_at`,
  )
    .bind(
      id,
      JSON.stringify(fields.rate_limits ?? []),
      fields.status ?? "active",
      now,
      fields.status === "deleted" ? now : null,
    )
    .run();
}

/**
 * Moves a key's creation `days` back, as if minted long ago: a key minted here to expire within the notice
 * window would otherwise be short-lived, which gets no expiring-soon notice and is not listed as expiring.
 */
export async function mintedDaysAgo(keyId: string, days: number): Promise<void> {
  await env.DB.prepare("UPDATE api_keys SET created_at = created_at - ? WHERE id = ?")
    .bind(days * DAY_MS, keyId)
    .run();
}
