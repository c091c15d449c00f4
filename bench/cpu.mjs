// workerd's CPU time per request, per floor and scenario: far steadier than requests per second on a shared
// machine, but not immune to it (a busy neighbour on the same cores slows every instruction, and work the
// runtime defers, such as evicting thousands of idle objects, lands in whatever runs next). So the pass
// measures in rounds, every floor and scenario once per round, each only once workerd is idle, and reports
// each one's least round: interference only ever adds CPU time, so the least is the closest to the work's
// own cost (a full run's rounds differed by up to 1.5x, all figures of a round moving together). Scenarios
// whose runs wake many objects (keys used once, many keys in rotation) are measured once, after the rounds,
// so that what they leave behind cannot land in the others' figures.
import { setTimeout as sleep } from "node:timers/promises";

/**
 * CPU seconds workerd used over exactly `amount` requests, read just after the last answer and the
 * deferred work it started (cache refills in waitUntil), per request in µs.
 */
async function cpuRun(runtime, load, url, keys, amount) {
  const before = runtime.cpuSeconds();
  const r = await load(url, keys, { amount });
  await sleep(100);
  const after = runtime.cpuSeconds();
  const us = before === null ? null : Math.round(((after - before) * 1e6) / r.requests);
  return {
    requests: r.requests,
    seconds: r.seconds,
    us_per_request: us,
    statuses: r.statuses,
    errors: r.errors,
    timeouts: r.timeouts,
  };
}

function median(values) {
  if (values.includes(null)) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

const least = (values) => (values.includes(null) ? null : Math.min(...values));

/**
 * Measures every item: `{ id, url, keys() → a fresh key source, amount, warmup (requests before the
 * measured ones, same keys), repeat (false: once, after the rounds) }`. `load(url, keys, { amount })` is the
 * harness's load. Answers id → `{ us_per_request (the least round), median_us, rounds_us, requests (per
 * round), statuses, errors, timeouts (all rounds) }`.
 */
export async function cpuPass({ runtime, items, rounds, idleMaxMs, load, log }) {
  const runs = new Map(items.map((item) => [item.id, []]));
  const measureOnce = async (item) => {
    await runtime.waitIdle(idleMaxMs);
    const keys = item.keys();
    if (item.warmup > 0) await load(item.url, keys, { amount: item.warmup });
    runs.get(item.id).push(await cpuRun(runtime, load, item.url, keys, item.amount));
  };
  for (let round = 1; round <= rounds; round++) {
    log(`CPU per request: round ${round} of ${rounds}`);
    for (const item of items.filter((i) => i.repeat)) await measureOnce(item);
  }
  for (const item of items.filter((i) => !i.repeat)) {
    log(`CPU per request: ${item.id}`);
    await measureOnce(item);
  }
  const out = {};
  for (const [id, list] of runs) {
    const statuses = {};
    for (const r of list)
      for (const [code, n] of Object.entries(r.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
    out[id] = {
      us_per_request: least(list.map((r) => r.us_per_request)),
      median_us: median(list.map((r) => r.us_per_request)),
      rounds_us: list.map((r) => r.us_per_request),
      requests: list[0].requests,
      statuses,
      errors: list.reduce((n, r) => n + r.errors, 0),
      timeouts: list.reduce((n, r) => n + r.timeouts, 0),
    };
  }
  return out;
}
