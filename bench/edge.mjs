// The edge mode (`npm run bench -- --edge`): latency the authorizer adds over a pass-through proxy when its
// bindings are as far away as they are deployed, simulated by delay wrappers in the instrumented build
// (bench/delays.ts): a round trip to the key's object, a KV and a D1 delay on every call.
//
// For each rate, paced (bench/pace.mjs), three streams: the pass-through proxy (the floor), a key with a large
// limit (the targets are for it) and a key with the default limit of 1,000 per hour (whose leases are one
// token: every request pays the object's round trip). Each key is fresh for its rate, so that each run starts
// on a full window. At rates up to `together_up_to_rps` the three run at once, phase-shifted (they barely
// overlap: saves minutes); faster ones run one after another. Each stream is warmed up at its own rate first.
import { keyContext } from "./admin.mjs";
import { unknownKey } from "./keys.mjs";
import { pacedAgent, pacedRun } from "./pace.mjs";
import { authorizerWorker, benchWorker, migrate, startRuntime } from "./runtime.mjs";

const PATH = "/api/v1/x";
const LARGE_LIMIT = 1_000_000;
const DEFAULT_LIMIT = 1_000;
/** Requests a default-limit key may be sent for one rate (warm-up included): below its 1,000 an hour. */
const DEFAULT_KEY_BUDGET = 950;

/** The edge mode's settings; delays from the flags, sizes for a full or a smoke run. */
export function edgeSettings({ smoke, rttMs, kvMs, d1Ms, rates }) {
  /** Samples per stream and rate: enough for p90 at 1 and 10 rps, for p99 (≥ 1,000) from 100 rps. */
  const samples = smoke ? { 10: 20, 100: 100 } : { 1: 60, 10: 600, 100: 3_000, 1000: 20_000 };
  for (const rate of rates ?? []) {
    if (!(rate in samples)) throw new Error(`--rates takes some of ${Object.keys(samples).join(", ")}`);
  }
  return {
    rtt_ms: rttMs,
    kv_ms: kvMs,
    d1_ms: d1Ms,
    rates_rps: rates ?? Object.keys(samples).map(Number),
    samples,
    default_key_max_samples: smoke ? 50 : 900,
    warmup_s: smoke ? 0.5 : 3,
    together_up_to_rps: 10,
  };
}

const rateLimits = (limit) => ({ rate_limits: [{ name: "hour", limit, window_seconds: 3600 }] });
const round2 = (n) => Math.round(n * 100) / 100;
const minus = (a, b) => (a === null || b === null ? null : round2(a - b));

/**
 * Runs the edge mode on `bundle` (the instrumented build) in a runtime of its own on `state`; answers the
 * `edge` section of bench/results.json. `active` is the set of runtimes to dispose on an interrupt.
 */
export async function runEdge({ bundle, state, adminToken, settings, log, active }) {
  const vars = {
    ORIGIN_URL: "",
    REFUSAL_THROTTLE_LIMIT: "0",
    ADMIN_TOKEN: adminToken,
    BENCH_OBJECT_RTT_MS: String(settings.rtt_ms),
    BENCH_KV_MS: String(settings.kv_ms),
    BENCH_D1_MS: String(settings.d1_ms),
  };
  const runtime = await startRuntime(
    [
      authorizerWorker("authorizer", bundle, vars),
      benchWorker("origin", "noop.js"),
      benchWorker("proxy", "proxy.js", { ORIGIN: "origin" }),
    ],
    state,
  );
  active.add(runtime);
  const agents = [];
  try {
    await migrate(runtime.mf, "authorizer");
    const ctx = keyContext(runtime.urls.authorizer, adminToken, { path: PATH, concurrency: 4, size: {}, log });
    const counts = async () => (await fetch(`${runtime.urls.authorizer}/__bench/counts`)).json();
    const floors = [];
    const scenarios = [];
    for (const rate of settings.rates_rps) {
      const n = settings.samples[rate];
      const warm = Math.max(3, Math.ceil(rate * settings.warmup_s));
      // Each key has a consumer of its own (without shared limits), as an owner with one key has.
      const [large] = await ctx.mint(1, { ...rateLimits(LARGE_LIMIT), owner_id: `edge-large-${rate}` });
      const [small] = await ctx.mint(1, { ...rateLimits(DEFAULT_LIMIT), owner_id: `edge-default-${rate}` });
      large.consumer = `edge-large-${rate}`;
      small.consumer = `edge-default-${rate}`;
      const nSmall = Math.min(n, settings.default_key_max_samples);
      const agent = () => {
        const made = pacedAgent();
        agents.push(made);
        return made;
      };
      const streams = [
        { name: "floor", url: `${runtime.urls.proxy}${PATH}`, key: unknownKey(), samples: n, warm, agent: agent() },
        {
          name: "large",
          limit: LARGE_LIMIT,
          url: `${runtime.urls.authorizer}${PATH}`,
          ...large,
          samples: n,
          warm,
          agent: agent(),
        },
        {
          name: "default",
          limit: DEFAULT_LIMIT,
          url: `${runtime.urls.authorizer}${PATH}`,
          ...small,
          samples: nSmall,
          warm: Math.min(warm, DEFAULT_KEY_BUDGET - nSmall),
          agent: agent(),
        },
      ];
      const together = rate <= settings.together_up_to_rps;
      log(
        `edge: ${rate} rps, ${together ? "three streams at once" : "one stream after another"} (${n.toLocaleString("en")} samples each, ${nSmall} for the default-limit key)`,
      );
      const run = (s, count, i) =>
        pacedRun({
          url: s.url,
          key: s.key,
          rate,
          count,
          agent: s.agent,
          phaseMs: together ? (i * 1000) / rate / streams.length : 0,
        });
      const results = new Map();
      let byKey = {};
      if (together) {
        await Promise.all(streams.map((s, i) => run(s, s.warm, i)));
        await counts(); // resets
        const out = await Promise.all(streams.map((s, i) => run(s, s.samples, i)));
        for (const [i, s] of streams.entries()) results.set(s.name, out[i]);
        byKey = (await counts()).by_key;
      } else {
        for (const s of streams) {
          await run(s, s.warm, 0);
          await counts();
          results.set(s.name, await run(s, s.samples, 0));
          byKey = { ...byKey, ...(await counts()).by_key };
          await runtime.waitIdle(5_000);
        }
      }
      const floor = results.get("floor");
      floors.push({ rate_rps: rate, ok: allOk(floor), ...floor });
      for (const s of streams.slice(1)) {
        const r = results.get(s.name);
        const k = byKey[s.id] ?? { object_calls: 0, tokens_granted: 0 };
        const c = byKey[`consumer:${s.consumer}`] ?? { object_calls: 0 };
        const per1k = (v) => Math.round((v * 1000 * 10) / r.samples) / 10;
        scenarios.push({
          rate_rps: rate,
          key_limit: s.limit,
          rtt_ms: settings.rtt_ms,
          samples: r.samples,
          p50_added_ms: minus(r.p50_ms, floor.p50_ms),
          p90_added_ms: minus(r.p90_ms, floor.p90_ms),
          p99_added_ms: minus(r.p99_ms, floor.p99_ms),
          object_calls_per_1000: per1k(k.object_calls),
          consumer_object_calls_per_1000: per1k(c.object_calls),
          tokens_granted_per_1000: per1k(k.tokens_granted),
          ok: allOk(r),
          ...r,
        });
      }
      await runtime.waitIdle(5_000);
    }
    return { floors, scenarios };
  } finally {
    for (const a of agents) a.destroy();
    active.delete(runtime);
    await runtime.mf.dispose();
  }
}

/** Every answer a 200 and nothing failed. */
function allOk(r) {
  return r.errors === 0 && (r.statuses[200] ?? 0) === r.samples && r.samples > 0;
}
