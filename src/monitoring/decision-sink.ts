/**
 * The one call the request path makes into monitoring: count a final decision in memory and, when this
 * isolate's batch is due, start its flush in `waitUntil`. Never awaits, never touches storage itself.
 */
import { flushBatch } from "./flush";
import { countDecision, fromCf, takeBatchIfDue, type RequestCf } from "./usage";

export interface MonitorSink {
  /** The Worker's env; without it (a test's hand-built stores) decisions are counted but not flushed. */
  env?: Cloudflare.Env;
  waitUntil(promise: Promise<unknown>): void;
}

const NOWHERE = { ip: null, asn: null, country: null };

/**
 * @param keyId the key the decision is about, or null when no key was identified (its networks are not kept)
 * @example recordDecision(stores, seen.keyId, decision.code, input.ip, input.cf, now);
 */
export function recordDecision(
  sink: MonitorSink,
  keyId: string | null,
  outcome: string,
  ip: string | null,
  cf: RequestCf | undefined,
  now: number,
): void {
  countDecision(keyId, outcome, keyId === null ? NOWHERE : fromCf(ip, cf), now);
  if (!sink.env) return;
  const batch = takeBatchIfDue(now);
  if (batch) sink.waitUntil(flushBatch(sink.env, sink.waitUntil, batch));
}
