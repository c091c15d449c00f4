// Open-loop load at a constant rate, for the edge mode: request i is sent at start + i / rate whatever the
// answers before it are doing, each on a connection of its own while others are busy, so a slow answer never
// delays the next request (autocannon's overallRate does not do that: each connection sends its next request
// when its last answer arrives, up to a per-second budget that it spends at the start of each second).
//
// The pacer is a timer: between sends this process's event loop is free (it also drains workerd's log pipe).
// Connections are capped (MAX_CONNECTIONS): past that many answers outstanding the runtime is not keeping
// up, and opening thousands more connections would only make it worse (a first run at 1,000 rps opened
// 14,000 and never recovered); further requests wait for a connection, and that wait is in their latency.
import http from "node:http";
import { performance } from "node:perf_hooks";

/** Requests in flight at once per stream, at most: far above what any rate here needs while it keeps up. */
const MAX_CONNECTIONS = 256;

/** The one client every request comes from (a documentation address, RFC 5737), as in bench/load.mjs. */
const CLIENT_IP = "203.0.113.7";

/**
 * Sends `count` GET requests to `url` at `rate` per second, the first at `phaseMs` from now, each carrying
 * `key` in X-API-Key (when given). Latency is from the moment a request is handed to the socket layer to the
 * end of its answer's body (a wait for a free connection included). `lag` is how late each send was against
 * its schedule (the pacer's own error). Connections are kept alive in `agent` (one per stream, reused across
 * its runs); `connections_opened` counts the ones this run had to open, `waited_for_connection` the requests
 * sent while MAX_CONNECTIONS were busy. `saturated`: requests waited, or the answers ended more than a
 * second after the last request's time: the runtime (or this machine) did not keep up with the rate.
 */
export async function pacedRun({ url, key, rate, count, agent, phaseMs = 0 }) {
  const target = new URL(url);
  const interval = 1000 / rate;
  const latencies = [];
  const lags = [];
  const statuses = {};
  let errors = 0;
  let opened = 0;
  let inFlight = 0;
  let waited = 0;
  const headers = { "cf-connecting-ip": CLIENT_IP, ...(key ? { "x-api-key": key } : {}) };

  let done = 0;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  const settle = () => {
    inFlight--;
    if (++done === count) finish();
  };

  const send = (scheduled) => {
    const sent = performance.now();
    lags.push(sent - scheduled);
    if (inFlight++ >= MAX_CONNECTIONS) waited++;
    const req = http.request(
      { host: target.hostname, port: target.port, path: target.pathname, method: "GET", headers, agent },
      (res) => {
        res.resume();
        res.on("end", () => {
          latencies.push(performance.now() - sent);
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
          settle();
        });
        res.on("error", () => {
          errors++;
          settle();
        });
      },
    );
    // A socket still connecting when it is handed over is a new one; a kept-alive one is already open.
    req.on("socket", (socket) => {
      if (socket.connecting) opened++;
    });
    req.on("error", () => {
      errors++;
      settle();
    });
    req.end();
  };

  const start = performance.now() + phaseMs;
  let next = 0;
  const tick = () => {
    const now = performance.now();
    while (next < count && start + next * interval <= now) send(start + next++ * interval);
    if (next < count) setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
  };
  setTimeout(tick, Math.max(0, start - performance.now()));
  await finished;
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  lags.sort((a, b) => a - b);
  return {
    samples: latencies.length,
    seconds: round2(seconds),
    scheduled_seconds: round2(count / rate),
    p50_ms: round2(percentile(latencies, 50)),
    p90_ms: round2(percentile(latencies, 90)),
    p99_ms: latencies.length >= 1_000 ? round2(percentile(latencies, 99)) : null,
    max_ms: round2(latencies.at(-1) ?? 0),
    statuses,
    errors,
    connections_opened: opened,
    waited_for_connection: waited,
    saturated: waited > 0 || seconds > (count - 1) / rate + 1,
    send_lag_p99_ms: round2(percentile(lags, 99)),
    send_lag_max_ms: round2(lags.at(-1) ?? 0),
  };
}

/** A keep-alive agent: a request never waits for another's connection until MAX_CONNECTIONS are busy. */
export const pacedAgent = () =>
  new http.Agent({ keepAlive: true, maxSockets: MAX_CONNECTIONS, maxFreeSockets: MAX_CONNECTIONS, scheduling: "lifo" });

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round2 = (n) => Math.round(n * 100) / 100;
