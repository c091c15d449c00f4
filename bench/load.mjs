// Load generation with autocannon, from this process (workerd is a separate one), over loopback.
import autocannon from "autocannon";

/**
 * A source of API keys for requests: a list used round-robin, a list each of whose keys is used at most once
 * (then `remaining()` bounds the run), or a function answering a new key per request. A function's first
 * `pregenerate` keys are made before the load starts, so that making keys does not slow this process (the
 * load generator) during a timed run, which would favour the floors (they reuse one key).
 */
export function keySource(keys, { once = false, pregenerate = 0 } = {}) {
  if (typeof keys === "function") {
    const pool = Array.from({ length: pregenerate }, keys);
    let used = 0;
    return { next: () => (used < pool.length ? pool[used++] : keys()), remaining: () => Infinity };
  }
  let i = 0;
  if (once) return { next: () => keys[i++], remaining: () => keys.length - i };
  return { next: () => keys[i++ % keys.length], remaining: () => Infinity };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round2 = (n) => Math.round(n * 100) / 100;

/** The one client every request comes from (a documentation address, RFC 5737). */
const CLIENT_IP = "203.0.113.7";

/**
 * Runs one bounded load: `connections` keep-alive connections, for `seconds` or `maxRequests` requests,
 * whichever ends first (`amount`: exactly that many requests instead). Every request carries the next key of
 * `keys` (a keySource) in X-API-Key, and the same client address in CF-Connecting-IP (as Cloudflare's edge
 * would set it), floors included, so that every request has the same size. Latencies are recorded here for every response, whatever its status,
 * with sub-millisecond precision (autocannon's own histogram keeps whole milliseconds).
 */
export async function runLoad({ url, keys, connections, seconds, maxRequests, amount }) {
  const latencies = [];
  let first;
  let last;
  const budget = Math.min(maxRequests ?? Infinity, keys?.remaining() ?? Infinity);
  const bounds = amount
    ? { amount }
    : { duration: seconds, ...(Number.isFinite(budget) ? { maxOverallRequests: Math.max(budget, connections) } : {}) };
  const started = process.hrtime.bigint();
  const instance = autocannon({
    url,
    connections,
    ...bounds,
    // autocannon ends a run at its next sample tick: at the default 1 s, a run of a few hundred requests took
    // a second more than its requests (its samples are not used here).
    sampleInt: 100,
    requests: [
      {
        method: "GET",
        headers: { "cf-connecting-ip": CLIENT_IP },
        setupRequest: (request) =>
          keys ? { ...request, headers: { ...request.headers, "x-api-key": keys.next() } } : request,
      },
    ],
  });
  instance.on("response", (_client, _status, _bytes, responseTime) => {
    latencies.push(responseTime);
    last = process.hrtime.bigint();
    first ??= last - BigInt(Math.round(responseTime * 1e6));
  });
  const result = await instance;
  // From the first request's start to the last response: not the connection set-up, nor the wind-down.
  const elapsedS = first === undefined ? Number(process.hrtime.bigint() - started) / 1e9 : Number(last - first) / 1e9;
  latencies.sort((a, b) => a - b);
  const statuses = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = count;
  return {
    requests: latencies.length,
    seconds: round2(elapsedS),
    rps: Math.round(latencies.length / elapsedS),
    p50_ms: round2(percentile(latencies, 50)),
    p99_ms: round2(percentile(latencies, 99)),
    max_ms: round2(latencies.at(-1) ?? 0),
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/** True if every response had the expected status and nothing failed at the connection level. */
export function statusesAsExpected(result, expected) {
  const total = Object.values(result.statuses).reduce((a, b) => a + b, 0);
  return total > 0 && (result.statuses[expected] ?? 0) === total && result.errors === 0 && result.timeouts === 0;
}
