/**
 * Monitoring's end of the request path: the DecisionSink the gateway and the RPC entrypoint hand to the
 * verify pipeline. It counts a final decision in memory and, when this isolate's batch is due, starts its
 * flush in `waitUntil`. Never awaits, never touches storage itself.
 */
import type { DecisionSink, WaitUntil } from "../http/context";
import { flushBatch } from "./flush";
import { countDecision, fromCf, takeBatchIfDue } from "./usage";

const NOWHERE = { ip: null, asn: null, country: null };

/**
 * The sink for one request: decisions are counted in this isolate and flushed to `env`'s D1.
 * @example const decisions = decisionSink(env, (p) => ctx.waitUntil(p));
 */
export function decisionSink(env: Cloudflare.Env, waitUntil: WaitUntil): DecisionSink {
  return {
    recordDecision(keyId, outcome, ip, cf, now) {
      // A decision about no known key keeps no network: its place must not become "known" for any key.
      countDecision(keyId, outcome, keyId === null ? NOWHERE : fromCf(ip, cf), now);
      const batch = takeBatchIfDue(now);
      if (batch) waitUntil(flushBatch(env, waitUntil, batch));
    },
  };
}
