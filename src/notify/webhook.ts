/**
 * Owner notifications: one JSON event POSTed to the configured webhook, signed with HMAC-SHA256.
 *
 * Receivers check `X-Authorizer-Signature: t=<unix seconds>,v1=<hex>` where v1 is
 * HMAC-SHA256(NOTIFY_WEBHOOK_SECRET, `${t}.${raw body}`), refuse a `t` older than a few minutes, and use
 * `X-Authorizer-Event-Id` to drop the duplicates that retries can produce.
 *
 * Delivery runs in `waitUntil` with bounded retries, after the change it reports is already in D1: a
 * receiver that is down, slow or not configured never blocks or undoes a revocation.
 */
import type { WaitUntil } from "../http/context";
import { log } from "../util/log";
import { clock, timeoutSignal } from "../util/clock";
import { epochSeconds } from "../util/time";
import { hmacSha256Hex } from "../util/secrets";

/** Waits between attempts; three attempts in all, well inside a request's waitUntil budget. */
const NOTIFY_RETRY_DELAYS_MS = [250, 1000] as const;
/** How long one attempt may take before it counts as failed. */
const NOTIFY_ATTEMPT_TIMEOUT_MS = 5000;

/** An event about a consumer's key (or the consumer), for its owner. */
interface KeyOwnerEvent {
  /** e.g. "key.leaked", "key.exposed", "key.expiring", "alert.opened". */
  type: string;
  owner_id: string;
  key_id?: string;
  /** Event details. Never a key or its hash. */
  data: Record<string, unknown>;
}

/** An event about a scoped admin credential, for whoever minted it: it has no owner among the consumers. */
interface CredentialEvent {
  type: "credential.leaked" | "credential.exposed";
  credential_id: string;
  /** The actor that minted it, as audit rows name it ("ADMIN_TOKEN", "access:<email>", "credential:<id>"). */
  created_by: string;
  /** Event details. Never the credential or its hash. */
  data: Record<string, unknown>;
}

export type OwnerEvent = KeyOwnerEvent | CredentialEvent;

/**
 * Queues delivery of an event to the owner webhook and returns at once. Does nothing (one log line) when
 * no webhook is configured; refuses to send unsigned when the URL is set but the secret is not.
 * @example notifyOwner(env, (p) => ctx.waitUntil(p), { type: "key.leaked", owner_id, key_id, data: { source } });
 */
export function notifyOwner(env: Cloudflare.Env, waitUntil: WaitUntil, event: OwnerEvent): void {
  const url = env.NOTIFY_WEBHOOK_URL?.trim() ?? "";
  if (url === "") {
    log("info", "notify.skipped", { type: event.type, setting: "NOTIFY_WEBHOOK_URL" });
    return;
  }
  if (!env.NOTIFY_WEBHOOK_SECRET) {
    log("error", "notify.skipped", {
      type: event.type,
      setting: "NOTIFY_WEBHOOK_SECRET",
      degraded: "notify_unconfigured",
    });
    return;
  }
  const body = JSON.stringify({ id: crypto.randomUUID(), created_at: clock.now(), ...event });
  waitUntil(deliver(url, env.NOTIFY_WEBHOOK_SECRET, body, event.type));
}

async function deliver(url: string, secret: string, body: string, type: string): Promise<boolean> {
  const eventId = (JSON.parse(body) as { id: string }).id;
  for (let attempt = 0; attempt <= NOTIFY_RETRY_DELAYS_MS.length; attempt++) {
    if (attempt > 0) await clock.sleep(NOTIFY_RETRY_DELAYS_MS[attempt - 1]!);
    const t = epochSeconds(clock.now());
    const signature = await hmacSha256Hex(secret, `${t}.${body}`);
    const { signal, cancel } = timeoutSignal(NOTIFY_ATTEMPT_TIMEOUT_MS);
    try {
      const response = await fetch(url, {
        method: "POST",
        body,
        headers: {
          "Content-Type": "application/json",
          "X-Authorizer-Event-Id": eventId,
          "X-Authorizer-Signature": `t=${t},v1=${signature}`,
        },
        signal,
      });
      await response.body?.cancel();
      if (response.ok) return true;
      log("error", "notify.failed", { type, attempt, status: response.status });
    } catch (error) {
      log("error", "notify.failed", { type, attempt, error: (error as Error).name });
    } finally {
      cancel();
    }
  }
  log("error", "notify.gave_up", { type, event_id: eventId, degraded: "notify_failed" });
  return false;
}
