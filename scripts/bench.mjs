#!/usr/bin/env node
// `npm run bench`: what authorization costs, per scenario, on this machine.
// `npm run bench -- --smoke`: about a second per scenario, only to prove the harness works; exits non-zero
// if any scenario saw a status other than the one it expects.
// `npm run bench -- --only=<text>`: the floors and the scenarios whose names contain <text>, timing only (no
// counting pass, no flood), written to bench/tmp/results.only.json: for working on one path.
// `--many-keys=<n>`: the many-keys scenario with n keys instead of 10,000 (e.g. 2,000, to see it with every
// key's object kept awake: `npm run bench -- --only=rotated --many-keys=2000`).
// `npm run bench -- --edge [--rtt-ms=80 --kv-ms=10 --d1-ms=30]`: only the edge mode (bench/edge.mjs): paced
// load at 1 to 1,000 requests per second with the bindings' latency simulated; merges its `edge` section into
// bench/results.json. `--rates=1,10`: only those rates, written to bench/tmp/results.edge-only.json. A smoke
// run also runs a short edge mode (`--smoke --edge`: only that).
//
// 1. Builds the Worker exactly as `wrangler deploy` would, and an instrumented build (bench/instrumented-entry.ts).
// 2. Timing pass: boots the real bundle in workerd through the miniflare API (not `wrangler dev`, whose proxy
//    is several times slower) with D1, KV and Durable Objects on a temporary directory, the origin a no-op
//    Worker behind the ORIGIN service binding, and in the same runtime the floors: a no-op Worker, a
//    pass-through proxy to the same origin, the caller Worker calling a no-op RPC entrypoint, and primitive
//    floors (the pass-through proxy plus one runtime primitive each). Loads each floor and scenario from this
//    process with autocannon over loopback: a warm-up, then a bounded run. Then, in the same runtime, CPU µs
//    per request (bench/cpu.mjs): workerd's CPU time from /proc over a fixed number of requests, in rounds.
// 3. Counting pass: the instrumented build on the same storage counts D1 statements, KV reads and writes and
//    Durable Object calls over a fixed number of requests per scenario.
// 4. Flood: 100,000 distinct unknown keys, with the memory of workerd and of the authorizer's isolate.
// 5. Prints a table and writes bench/results.json (a smoke run writes bench/tmp/results.smoke.json).
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { keyContext } from "../bench/admin.mjs";
import { unknownKey } from "../bench/keys.mjs";
import { cpuPass } from "../bench/cpu.mjs";
import { edgeSettings, runEdge } from "../bench/edge.mjs";
import { keySource, runLoad, statusesAsExpected } from "../bench/load.mjs";
import { formatEdgeTable, formatTable, loadAverage, machineInfo, summarize } from "../bench/report.mjs";
import { authorizerWorker, benchWorker, build, isolateHeap, migrate, ROOT, startRuntime } from "../bench/runtime.mjs";
import { SCENARIOS } from "../bench/scenarios.mjs";

const SMOKE = process.argv.includes("--smoke");
const ONLY = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length) ?? null;
const MANY_KEYS = Number(process.argv.find((a) => a.startsWith("--many-keys="))?.slice("--many-keys=".length) ?? NaN);
if (process.argv.some((a) => a.startsWith("--many-keys=")) && !(Number.isInteger(MANY_KEYS) && MANY_KEYS >= 10)) {
  throw new Error("--many-keys=<n> takes a whole number of at least 10");
}
const EDGE_ONLY = process.argv.includes("--edge");
/** A non-negative number of milliseconds from `--<name>=<ms>`, or the default. */
function msFlag(name, fallback) {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (arg === undefined) return fallback;
  const ms = Number(arg.slice(name.length + 3));
  if (!(Number.isFinite(ms) && ms >= 0)) throw new Error(`--${name}=<ms> takes a number of milliseconds, 0 or more`);
  return ms;
}
const RATES =
  process.argv
    .find((a) => a.startsWith("--rates="))
    ?.slice("--rates=".length)
    .split(",")
    .map(Number) ?? null;
const EDGE = edgeSettings({
  smoke: SMOKE,
  rttMs: msFlag("rtt-ms", 80),
  kvMs: msFlag("kv-ms", 10),
  d1Ms: msFlag("d1-ms", 30),
  rates: RATES,
});
const TMP = join(ROOT, "bench/tmp");
const PATH = "/api/v1/x";

const SETTINGS = {
  mode: SMOKE ? "smoke" : "full",
  connections: 32,
  warmup_s: SMOKE ? 0.3 : 2,
  seconds: SMOKE ? 1 : 10,
  max_requests: SMOKE ? 20_000 : 250_000,
  /**
   * CPU per request (bench/cpu.mjs): rounds, and requests per round (autocannon `amount`) for each floor and
   * scenario, fewer for scenarios under 1,000 rps in the timing pass, after cpu_warmup requests; the first-use
   * scenario's run is cold_cpu_keys fresh keys. Each run starts once workerd is idle (at most cpu_idle_max_ms).
   */
  cpu_rounds: SMOKE ? 2 : 3,
  cpu_requests: SMOKE ? 300 : 10_000,
  cpu_requests_slow: SMOKE ? 100 : 3_000,
  cpu_warmup: SMOKE ? 50 : 500,
  cold_cpu_keys: SMOKE ? 50 : 1_000,
  cpu_idle_max_ms: SMOKE ? 0 : 15_000,
  /** Requests counted per scenario in the counting pass (at least one round of a rotated key list). */
  count_requests: SMOKE ? 200 : 2_000,
  many_keys: Number.isInteger(MANY_KEYS) ? MANY_KEYS : SMOKE ? 200 : 10_000,
  /** Fresh keys for the first-use scenario's timing pass; its warm-up spends at most cold_warmup_keys of them. */
  cold_keys: SMOKE ? 300 : 2_000,
  cold_warmup_keys: SMOKE ? 50 : 300,
  /** Distinct unknown keys in the flood that shows memory stays flat. */
  flood_keys: SMOKE ? 2_000 : 100_000,
  /**
   * Before each scenario (and, in the counting pass, to count it), work the previous one left behind is let
   * run (background cache refills, a usage flush a request started: src/monitoring/usage.ts, at most one per
   * isolate per USAGE_ROLLUP_FLUSH_MS = 60 s or per 500 rows). So: wait settle_ms, then until workerd is idle
   * (at most idle_max_ms). settle_ms was sized for the 10 s key-usage flush that the one usage aggregator
   * replaced; it is kept so that runs stay comparable with the published ones.
   */
  settle_ms: SMOKE ? 0 : 11_000,
  idle_max_ms: SMOKE ? 0 : 180_000,
  mint_concurrency: 16,
  /** Keys made per request (unknown, bad checksum) are made before a timed run: enough for warm-up and run. */
  pregenerated_keys: SMOKE ? 10_000 : 300_000,
  /** The refusal throttle would answer 429 to every refusal scenario after 50 requests from one address. */
  vars: { ORIGIN_URL: "", REFUSAL_THROTTLE_LIMIT: "0" },
  /** The instance the "throttled" scenarios use: the deployed default limit, a window longer than any run. */
  throttled_vars: { ORIGIN_URL: "", REFUSAL_THROTTLE_LIMIT: "50", REFUSAL_THROTTLE_WINDOW_SECONDS: "3600" },
};

const log = (message) => process.stderr.write(`bench: ${message}\n`);

/** Lets deferred work from what ran before finish; answers the seconds waited. */
async function settle(runtime) {
  if (SETTINGS.settle_ms === 0) return 0;
  await sleep(SETTINGS.settle_ms);
  return SETTINGS.settle_ms / 1000 + (await runtime.waitIdle(SETTINGS.idle_max_ms));
}

const scenarioName = (s) => (typeof s.name === "function" ? s.name({ manyKeys: SETTINGS.many_keys }) : s.name);
/** Floors get a key header of the same length as the scenarios', so requests are the same size. */
const FLOOR_KEY = unknownKey();

/** Each scenario with its keys for the timing pass and for the counting pass. */
async function prepareScenarios(ctx) {
  const prepared = [];
  for (const s of SCENARIOS) {
    const name = scenarioName(s);
    if (ONLY !== null && !name.includes(ONLY)) continue;
    log(`preparing keys: ${name}`);
    if (s.once) {
      const timingKeys = await s.keys({ ...ctx, count: SETTINGS.cold_keys });
      const cpuKeys = await s.keys({ ...ctx, count: SETTINGS.cold_cpu_keys });
      const countingKeys = await s.keys({ ...ctx, count: SETTINGS.count_requests });
      prepared.push({ ...s, name, timingKeys, cpuKeys, countingKeys });
    } else {
      const keys = await s.keys(ctx);
      prepared.push({ ...s, name, timingKeys: keys, countingKeys: keys });
    }
  }
  return prepared;
}

const load = (url, keys, bounds) => runLoad({ url, keys, connections: SETTINGS.connections, ...bounds });

/** Warm-up, then the measured run, with the runtime's peak memory over the measured run only. */
async function measure(runtime, url, keys, { prime, once } = {}) {
  if (prime) await load(url, keySource(prime), { amount: prime.length });
  await load(url, keys, { seconds: SETTINGS.warmup_s, maxRequests: once ? SETTINGS.cold_warmup_keys : undefined });
  const peakReset = runtime.resetPeak();
  const result = await load(url, keys, { seconds: SETTINGS.seconds, maxRequests: SETTINGS.max_requests });
  const { rss_mib, peak_rss_mib } = runtime.memory();
  return { ...result, rss_mib, peak_rss_mib: peakReset ? peak_rss_mib : null };
}

/**
 * What the CPU pass measures: every floor, and every scenario with keys like its timing pass's (keys used
 * once: fresh ones; keys made per request: a pool of their own; a primed key list: primed again first).
 */
function cpuItems(runtime, floors, scenarios, results) {
  const floorItems = floors.map((f) => ({
    id: `floor: ${f.name}`,
    url: `${runtime.urls[f.worker]}${PATH}`,
    keys: () => keySource([FLOOR_KEY]),
    amount: SETTINGS.cpu_requests,
    warmup: SETTINGS.cpu_warmup,
    repeat: true,
  }));
  const scenarioItems = scenarios.map((s, i) => {
    const amount = s.once
      ? s.cpuKeys.length
      : results[i].rps < 1_000
        ? SETTINGS.cpu_requests_slow
        : SETTINGS.cpu_requests;
    const warmup = s.once ? 0 : s.prime ? s.timingKeys.length : SETTINGS.cpu_warmup;
    const keys = s.once
      ? () => keySource(s.cpuKeys, { once: true })
      : typeof s.timingKeys === "function"
        ? () => keySource(s.timingKeys, { pregenerate: warmup + amount })
        : () => keySource(s.timingKeys);
    return {
      id: `scenario: ${s.name}`,
      url: targetUrl(runtime.urls, s),
      keys,
      amount,
      warmup,
      repeat: !s.once && !s.prime,
    };
  });
  return [...floorItems, ...scenarioItems];
}

/** `primitive`: the pass-through proxy plus one runtime primitive (bench/workers/proxy-*.js). */
const FLOORS = [
  { name: "noop", worker: "noop" },
  { name: "proxy", worker: "proxy" },
  { name: "rpc", worker: "caller-floor" },
  { name: "proxy + new Request with copied headers", worker: "proxy-new-request", primitive: true },
  { name: "proxy + response re-wrapped with headers", worker: "proxy-rewrap-response", primitive: true },
  { name: "proxy + AbortController signal and timer", worker: "proxy-abort-signal", primitive: true },
  { name: "proxy + crypto.randomUUID()", worker: "proxy-random-uuid", primitive: true },
  { name: "proxy + SHA-256 of the key (TextEncoder)", worker: "proxy-sha256", primitive: true },
];

async function measureFloors(runtime) {
  const out = {};
  const settled_s = await settle(runtime);
  for (const f of FLOORS) {
    log(`floor: ${f.name}`);
    out[f.name] = {
      ...(await measure(runtime, `${runtime.urls[f.worker]}${PATH}`, keySource([FLOOR_KEY]))),
      settled_s,
    };
  }
  return out;
}

/**
 * A flood of flood_keys distinct unknown keys, in four steps, in a runtime of its own with a DevTools
 * inspector on the authorizer: the workerd process's resident memory and the authorizer isolate's V8 heap
 * before and after each step, to show that the bounded caches keep memory flat.
 */
async function floodPass(bundle, state, adminToken) {
  const runtime = await startRuntime(
    [
      authorizerWorker("authorizer", bundle, { ...SETTINGS.vars, ADMIN_TOKEN: adminToken }),
      benchWorker("origin", "noop.js"),
    ],
    state,
    { inspect: ["authorizer"] },
  );
  active.add(runtime);
  try {
    const url = `${runtime.urls.authorizer}${PATH}`;
    const memory = async (keys) => ({
      keys,
      ...runtime.memory(),
      authorizer_heap: await isolateHeap(runtime.mf, "authorizer", `${runtime.urls.authorizer}/healthz`),
    });
    const steps = [await memory(0)];
    const peakReset = runtime.resetPeak();
    const statuses = {};
    let requests = 0;
    let seconds = 0;
    let ok = true;
    const step = SETTINGS.flood_keys / 4;
    for (let sent = step; sent <= SETTINGS.flood_keys; sent += step) {
      log(
        `flood of distinct unknown keys: ${sent.toLocaleString("en")} of ${SETTINGS.flood_keys.toLocaleString("en")}`,
      );
      const r = await load(url, keySource(unknownKey), { amount: step });
      ok &&= statusesAsExpected(r, 401);
      for (const [code, n] of Object.entries(r.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
      requests += r.requests;
      seconds += r.seconds;
      steps.push(await memory(sent));
    }
    const peak = runtime.memory().peak_rss_mib;
    return {
      ok,
      expect: 401,
      statuses,
      rps: Math.round(requests / seconds),
      steps,
      peak_rss_mib: peakReset ? peak : null,
    };
  } finally {
    active.delete(runtime);
    await runtime.mf.dispose();
  }
}

function targetUrl(urls, scenario) {
  const worker = { rpc: "caller", throttled: "authorizer-throttled" }[scenario.via] ?? "authorizer";
  return `${urls[worker]}${PATH}`;
}

async function timingPass(bundle, state, adminToken) {
  const runtime = await startRuntime(
    [
      authorizerWorker("authorizer", bundle, { ...SETTINGS.vars, ADMIN_TOKEN: adminToken }),
      authorizerWorker("authorizer-throttled", bundle, { ...SETTINGS.throttled_vars, ADMIN_TOKEN: adminToken }),
      benchWorker("origin", "noop.js"),
      benchWorker("noop", "noop.js"),
      benchWorker("proxy", "proxy.js", { ORIGIN: "origin" }),
      benchWorker("caller", "caller.js", { AUTH: { name: "authorizer", entrypoint: "AuthService" } }),
      benchWorker("caller-floor", "caller.js", { AUTH: { name: "noop", entrypoint: "NoopAuth" } }),
      ...FLOORS.filter((f) => f.primitive).map((f) => benchWorker(f.worker, `${f.worker}.js`, { ORIGIN: "origin" })),
    ],
    state,
  );
  active.add(runtime);
  try {
    await migrate(runtime.mf, "authorizer");
    const ctx = keyContext(runtime.urls.authorizer, adminToken, {
      path: PATH,
      concurrency: SETTINGS.mint_concurrency,
      size: { manyKeys: SETTINGS.many_keys },
      log,
    });
    const scenarios = await prepareScenarios(ctx);
    const floorsBefore = await measureFloors(runtime);
    const results = [];
    for (const s of scenarios) {
      log(`timing: ${s.name}`);
      const settled_s = await settle(runtime);
      const keys = keySource(s.timingKeys, { once: s.once, pregenerate: SETTINGS.pregenerated_keys });
      results.push({
        ...(await measure(runtime, targetUrl(runtime.urls, s), keys, { prime: s.prime && s.timingKeys, once: s.once })),
        settled_s,
      });
    }
    const floorsAfter = await measureFloors(runtime);
    await settle(runtime);
    const cpu = await cpuPass({
      runtime,
      items: cpuItems(runtime, FLOORS, scenarios, results),
      rounds: SETTINGS.cpu_rounds,
      idleMaxMs: SETTINGS.cpu_idle_max_ms,
      load,
      log,
    });
    return { scenarios, results, floorsBefore, floorsAfter, cpu };
  } finally {
    active.delete(runtime);
    await runtime.mf.dispose();
  }
}

async function countingPass(instrumented, state, adminToken, scenarios) {
  const runtime = await startRuntime(
    [
      authorizerWorker("authorizer", instrumented, { ...SETTINGS.vars, ADMIN_TOKEN: adminToken }),
      authorizerWorker("authorizer-throttled", instrumented, { ...SETTINGS.throttled_vars, ADMIN_TOKEN: adminToken }),
      benchWorker("origin", "noop.js"),
      benchWorker("caller", "caller.js", { AUTH: { name: "authorizer", entrypoint: "AuthService" } }),
    ],
    state,
  );
  active.add(runtime);
  // Each authorizer instance counts its own calls; the "throttled" scenarios run on the second one. The
  // per-key counts are the edge mode's.
  const totals = ({ by_key, ...counted }) => counted;
  const counts = async (s) =>
    (
      await fetch(`${runtime.urls[s.via === "throttled" ? "authorizer-throttled" : "authorizer"]}/__bench/counts`)
    ).json();
  try {
    // Let the work the timing pass left behind (usage flushes) finish before anything is counted.
    await settle(runtime);
    const out = [];
    for (const s of scenarios) {
      log(`counting: ${s.name}`);
      const url = targetUrl(runtime.urls, s);
      const keys = keySource(s.countingKeys, { once: s.once });
      if (s.prime) await load(url, keySource(s.countingKeys), { amount: s.countingKeys.length });
      if (!s.once) await load(url, keys, { seconds: SETTINGS.warmup_s });
      await counts(s); // resets
      const amount = s.once
        ? s.countingKeys.length
        : Math.max(SETTINGS.count_requests, Array.isArray(s.countingKeys) ? s.countingKeys.length : 0);
      const r = await load(url, keys, { amount });
      await sleep(100); // cache refills run in waitUntil, just after the responses
      const during = totals(await counts(s));
      // Also lets this scenario's deferred work finish before the next one is counted.
      const after = (await settle(runtime)) > 0 ? totals(await counts(s)) : null;
      const per1k = (n) => Math.round((n * 1000 * 10) / r.requests) / 10;
      out.push({
        requests: r.requests,
        ok: statusesAsExpected(r, s.expect),
        statuses: r.statuses,
        per_1k_requests: Object.fromEntries(Object.entries(during).map(([k, v]) => [k, per1k(v)])),
        // Work that ran after the last response (background refills and flushes), per 1,000 of them.
        later_per_1k_requests: after && Object.fromEntries(Object.entries(after).map(([k, v]) => [k, per1k(v)])),
      });
    }
    return out;
  } finally {
    active.delete(runtime);
    await runtime.mf.dispose();
  }
}

/** A fresh storage directory: in memory where there is a tmpfs (local Durable Objects would wait on the disk). */
function newState() {
  const state = mkdtempSync(existsSync("/dev/shm") ? "/dev/shm/edge-key-authorizer-bench-" : join(TMP, "state-"));
  stateDirs.add(state);
  return state;
}

function dropState(state) {
  rmSync(state, { recursive: true, force: true });
  stateDirs.delete(state);
}

/** The edge mode on storage of its own: the `edge` section of the results, with its own machine and run time. */
async function edgeSection(instrumented, adminToken) {
  const machine = machineInfo(ROOT);
  const started = Date.now();
  const state = newState();
  try {
    const { floors, scenarios } = await runEdge({
      bundle: instrumented,
      state,
      adminToken,
      settings: EDGE,
      log,
      active,
    });
    const run_seconds = Math.round((Date.now() - started) / 1000);
    return {
      machine: { ...machine, load_average_at_end: loadAverage() },
      settings: EDGE,
      run_seconds,
      floors,
      scenarios,
    };
  } finally {
    dropState(state);
  }
}

/** The results file as it is, or {} if there is none yet. */
function readResults(file) {
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
}

function reportWrong(rows) {
  for (const r of rows) {
    console.error(
      `WRONG: ${r.name}: expected every response to be ${r.expect}; got ${JSON.stringify(r.statuses)}${r.counting_statuses ? `, counting pass ${JSON.stringify(r.counting_statuses)}` : ""}${r.cpu && !statusesAsExpected(r.cpu, r.expect) ? `, CPU run ${JSON.stringify(r.cpu.statuses)}` : ""}${r.errors ? `, ${r.errors} errors` : ""}${r.timeouts ? `, ${r.timeouts} timeouts` : ""}`,
    );
  }
  if (rows.length > 0) process.exitCode = 1;
}

const edgeRows = (edge) => [
  ...edge.floors.map((f) => ({ ...f, name: `edge floor at ${f.rate_rps} rps`, expect: 200 })),
  ...edge.scenarios.map((s) => ({ ...s, name: `edge, key limit ${s.key_limit} at ${s.rate_rps} rps`, expect: 200 })),
];

async function main() {
  mkdirSync(TMP, { recursive: true });
  writeFileSync(join(TMP, "workerd.log"), ""); // the Workers' log lines of this run (bench/runtime.mjs)
  const machine = machineInfo(ROOT);
  log("building the Worker and the instrumented build…");
  const bundle = build(join(TMP, "build"));
  const instrumented = build(join(TMP, "instrumented"), "bench/instrumented-entry.ts");
  const adminToken = randomBytes(32).toString("base64url");

  if (EDGE_ONLY) {
    const edge = await edgeSection(instrumented, adminToken);
    // A full edge run goes into bench/results.json beside the last full run's sections.
    const file = SMOKE
      ? join(TMP, "results.edge-smoke.json")
      : RATES
        ? join(TMP, "results.edge-only.json")
        : join(ROOT, "bench/results.json");
    const previous = SMOKE || RATES ? {} : readResults(file);
    writeFileSync(file, `${JSON.stringify({ ...previous, edge }, null, 2)}\n`);
    console.log(formatEdgeTable(edge));
    console.log(`\nWritten: ${file} (edge)`);
    reportWrong(edgeRows(edge).filter((r) => !r.ok));
    return;
  }

  const state = newState();
  let timing;
  let counting;
  let flood;
  try {
    timing = await timingPass(bundle, state, adminToken);
    if (ONLY === null) {
      counting = await countingPass(instrumented, state, adminToken, timing.scenarios);
      flood = await floodPass(bundle, state, adminToken);
    }
  } finally {
    dropState(state);
  }
  // A smoke run also runs the edge mode briefly; a full run keeps the edge section of the last --edge run.
  const file =
    ONLY !== null
      ? join(TMP, "results.only.json")
      : SMOKE
        ? join(TMP, "results.smoke.json")
        : join(ROOT, "bench/results.json");
  const edge = SMOKE ? await edgeSection(instrumented, adminToken) : ONLY === null ? readResults(file).edge : undefined;

  const { floors, scenarios } = summarize(FLOORS, timing, counting);
  const report = {
    machine: { ...machine, load_average_at_end: loadAverage() },
    settings: { ...SETTINGS, storage: state.startsWith("/dev/shm/") ? "tmpfs (/dev/shm)" : "disk (bench/tmp)" },
    floors,
    scenarios,
    flood,
    edge,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(formatTable(report));
  if (SMOKE && edge) console.log(`\n${formatEdgeTable(edge)}`);
  console.log(`\nWritten: ${file}`);

  reportWrong(
    [
      ...floors,
      ...scenarios,
      ...(flood ? [{ name: "flood", ...flood }] : []),
      ...(SMOKE && edge ? edgeRows(edge) : []),
    ].filter((r) => !r.ok),
  );
}

/** Runtimes to dispose and storage to delete if the run is interrupted. */
const active = new Set();
const stateDirs = new Set();
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    log(`${signal}: stopping workerd`);
    await Promise.allSettled([...active].map((r) => r.mf.dispose()));
    for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
}
