// The benchmark's output: the machine it ran on, a table for the terminal, and the JSON for bench/results.json.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { statusesAsExpected } from "./load.mjs";

const version = (root, pkg) =>
  JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")).version;

function git(root, args) {
  try {
    return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

/** Where and on what the numbers were measured. */
export function machineInfo(root) {
  return {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    load_average_at_start: loadAverage(),
    node: process.version,
    workerd: execFileSync(join(root, "node_modules/.bin/workerd"), ["--version"], { encoding: "utf8" }).trim(),
    miniflare: version(root, "miniflare"),
    wrangler: version(root, "wrangler"),
    autocannon: version(root, "autocannon"),
    commit: git(root, ["rev-parse", "--short", "HEAD"]),
    src_uncommitted_changes:
      (git(root, ["status", "--porcelain", "--", "src", "migrations", "wrangler.toml"]) ?? "") !== "",
  };
}

/** 1, 5 and 15 minute load averages: other work on the machine skews the numbers. */
export const loadAverage = () => loadavg().map((n) => Math.round(n * 100) / 100);

/** A floor's two runs (before and after the scenarios) as one: mean rate and percentiles, the larger max; its CPU. */
function floorSummary(name, before, after, cpu) {
  const mean = (k) => Math.round(((before[k] + after[k]) / 2) * 100) / 100;
  const statuses = { ...before.statuses };
  for (const [code, n] of Object.entries(after.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
  return {
    name,
    expect: 200,
    statuses,
    ok: [before, after, cpu].every((r) => statusesAsExpected(r, 200)),
    rps: Math.round(mean("rps")),
    cpu_us_per_request: cpu.us_per_request,
    p50_ms: mean("p50_ms"),
    p99_ms: mean("p99_ms"),
    max_ms: Math.max(before.max_ms, after.max_ms),
    peak_rss_mib: before.peak_rss_mib,
    runs: { before_scenarios: before, after_scenarios: after },
    cpu,
  };
}

/**
 * Floors and scenarios as reported: timings, the ratio to the floor, CPU per request (and beyond the floor's:
 * a primitive floor's is beyond the pass-through proxy's), and the counting pass's counts.
 */
export function summarize(floorList, timing, counting) {
  const floors = floorList.map((f) =>
    floorSummary(f.name, timing.floorsBefore[f.name], timing.floorsAfter[f.name], timing.cpu[`floor: ${f.name}`]),
  );
  const floorRps = Object.fromEntries(floors.map((f) => [f.name, f.rps]));
  const floorCpu = Object.fromEntries(floors.map((f) => [f.name, f.cpu_us_per_request]));
  const over = (us, floor) => (us === null || floorCpu[floor] === null ? null : us - floorCpu[floor]);
  floorList.forEach((f, i) => {
    if (f.primitive) floors[i].cpu_us_over_proxy = over(floors[i].cpu_us_per_request, "proxy");
  });
  const scenarios = timing.scenarios.map((s, i) => {
    const r = { ...timing.results[i], cpu: timing.cpu[`scenario: ${s.name}`] };
    const c = counting?.[i] ?? { ok: true }; // absent in an --only run
    return {
      name: s.name,
      via: s.via,
      expect: s.expect,
      ok: statusesAsExpected(r, s.expect) && statusesAsExpected(r.cpu, s.expect) && c.ok,
      ...r,
      cpu_us_per_request: r.cpu.us_per_request,
      floor: s.floor,
      cpu_us_over_floor: over(r.cpu.us_per_request, s.floor),
      rps_vs_floor: Math.round((r.rps / floorRps[s.floor]) * 100) / 100,
      p50_vs_floor: Math.round((r.p50_ms / floors.find((f) => f.name === s.floor).p50_ms) * 100) / 100,
      counting_requests: c.requests,
      counting_statuses: c.statuses,
      per_1k_requests: c.per_1k_requests,
      later_per_1k_requests: c.later_per_1k_requests,
    };
  });
  return { floors, scenarios };
}

const fmt = (n, digits = 1) => (n === undefined || n === null ? "" : Number(n).toFixed(digits));

/** The lowest and highest round of a CPU figure measured in rounds. */
const spread = (cpu) =>
  cpu.rounds_us.length < 2 || cpu.rounds_us.includes(null)
    ? ""
    : `${Math.min(...cpu.rounds_us)}–${Math.max(...cpu.rounds_us)}`;

/** The terminal table: floors first, then scenarios with their ratio, counts and memory. */
export function formatTable(report) {
  const { machine, settings, floors, scenarios, flood } = report;
  const header = [
    "scenario",
    "status",
    "rps",
    "vs floor",
    "p50 ms",
    "p99 ms",
    "max ms",
    "CPU µs",
    "(rounds)",
    "(+floor)",
    "D1/1k",
    "D1 later",
    "KV rd/1k",
    "KV wr/1k",
    "DO/1k",
    "peak MiB",
  ];
  const rows = [];
  for (const f of floors) {
    const plus = f.cpu_us_over_proxy === undefined ? "" : `${fmt(f.cpu_us_over_proxy, 0)} proxy`;
    rows.push([
      `floor: ${f.name}`,
      f.ok ? `${f.expect} ok` : "WRONG",
      String(f.rps),
      "1",
      fmt(f.p50_ms, 2),
      fmt(f.p99_ms, 2),
      fmt(f.max_ms, 1),
      fmt(f.cpu_us_per_request, 0),
      spread(f.cpu),
      plus,
      "",
      "",
      "",
      "",
      "",
      fmt(f.peak_rss_mib),
    ]);
  }
  for (const s of scenarios) {
    const c = s.per_1k_requests ?? {};
    rows.push([
      s.name,
      s.ok ? `${s.expect} ok` : "WRONG",
      String(s.rps),
      `${fmt(s.rps_vs_floor, 2)} ${s.floor}`,
      fmt(s.p50_ms, 2),
      fmt(s.p99_ms, 2),
      fmt(s.max_ms, 1),
      fmt(s.cpu_us_per_request, 0),
      spread(s.cpu),
      `${fmt(s.cpu_us_over_floor, 0)} ${s.floor}`,
      fmt(c.d1_queries),
      fmt(s.later_per_1k_requests?.d1_queries),
      fmt(c.kv_reads),
      fmt(c.kv_writes),
      fmt(c.object_calls),
      fmt(s.peak_rss_mib),
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const out = [
    `${machine.cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB, node ${machine.node}, workerd ${machine.workerd}, ${machine.date}`,
    `${settings.mode} run: ${settings.connections} connections, ${settings.warmup_s} s warm-up, then ${settings.seconds} s or ${settings.max_requests.toLocaleString("en")} requests per scenario; CPU: least of ${settings.cpu_rounds} rounds of ${settings.cpu_requests.toLocaleString("en")} requests; counts from ${settings.count_requests.toLocaleString("en")}+ requests on an instrumented build`,
    "",
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    "",
    "vs floor: requests per second as a fraction of the floor's, measured in the same runtime in the same run.",
    "CPU µs: workerd's CPU time (user + system, /proc) per request over a fixed number of requests, the least of",
    `the rounds (${settings.cpu_requests_slow.toLocaleString("en")} requests for scenarios under 1,000 rps; first use and many keys: one run after the rounds),`,
    "all its Workers and the local storage simulators included; (+floor): beyond the floor's.",
    "Counts per 1,000 requests: D1 statements executed, KV reads and writes, calls to the key's Durable Object;",
    "D1 later: statements run after the last response, until workerd is idle again (at least 11 s): usage flushes",
    "and cache refills still running. Before each scenario, the previous one's deferred work is let finish.",
    "peak MiB: the workerd process's peak RSS (VmHWM) during the measured part of that scenario (all Workers",
    "and the local D1/KV/Durable Object simulators share that process).",
  ];
  if (flood) {
    const total = flood.steps.at(-1).keys.toLocaleString("en");
    const fw = [14, 12, 22];
    const fline = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(fw[i]) : c.padStart(fw[i]))).join("  ");
    out.push(
      "",
      `Flood of ${total} distinct unknown keys, in a runtime of its own (${flood.rps} rps, ${flood.ok ? "all 401" : `WRONG: ${JSON.stringify(flood.statuses)}`}; peak RSS ${fmt(flood.peak_rss_mib)} MiB):`,
      fline(["unknown keys", "workerd RSS", "authorizer V8 heap"]),
      ...flood.steps.map((s) =>
        fline([
          s.keys.toLocaleString("en"),
          `${fmt(s.rss_mib)} MiB`,
          `${fmt(s.authorizer_heap.used_mib)} / ${fmt(s.authorizer_heap.total_mib)} MiB`,
        ]),
      ),
      "workerd RSS includes the local D1 and KV simulators, which run in the same process; the heap is the",
      "authorizer isolate's alone (used / reserved, as V8 reports it, without forcing a collection).",
    );
  }
  return out.join("\n");
}

/** The edge mode's table: latency added over the pass-through proxy at the same pace, and object calls. */
export function formatEdgeTable(edge) {
  const { machine, settings } = edge;
  const header = [
    "rate rps",
    "key limit/h",
    "samples",
    "p50 added",
    "p90 added",
    "p99 added",
    "DO/1k",
    "tokens/1k",
    "consumer DO/1k",
    "p50 / p90 / p99 ms",
    "floor p50 / p90 / p99",
    "send lag p99",
    "status",
  ];
  const three = (r) => [r.p50_ms, r.p90_ms, r.p99_ms].map((v) => (v === null ? "–" : fmt(v, 1))).join(" / ");
  const added = (v) => (v === null ? "–" : fmt(v, 1));
  const rows = edge.scenarios.map((s) => {
    const floor = edge.floors.find((f) => f.rate_rps === s.rate_rps);
    return [
      String(s.rate_rps),
      s.key_limit.toLocaleString("en"),
      `${s.samples} (${floor.samples})`,
      added(s.p50_added_ms),
      added(s.p90_added_ms),
      added(s.p99_added_ms),
      fmt(s.object_calls_per_1000),
      fmt(s.tokens_granted_per_1000, 0),
      fmt(s.consumer_object_calls_per_1000 ?? 0),
      three(s),
      three(floor),
      fmt(Math.max(s.send_lag_p99_ms, floor.send_lag_p99_ms), 1),
      `${s.ok && floor.ok ? "200 ok" : `WRONG ${JSON.stringify(s.statuses)}`}${s.saturated || floor.saturated ? ", saturated" : ""}`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => c.padStart(widths[i])).join("  ");
  return [
    `Edge latency (simulated): ${settings.rtt_ms} ms round trip to the key's object, KV ${settings.kv_ms} ms, D1 ${settings.d1_ms} ms per call; ${edge.run_seconds} s; load average ${machine.load_average_at_start.join(" ")} at start, ${machine.load_average_at_end.join(" ")} at end`,
    "",
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    "",
    "Paced (open loop): each request sent at its time whatever the others are doing. Added: the percentile of the",
    "authorizer's latency minus the same percentile of the pass-through proxy at the same pace (samples: the",
    "key's, the floor's in brackets); p99 only from 1,000 samples. DO/1k: calls into the key's object per 1,000",
    "requests; tokens/1k: tokens its grants carried (more than 1,000: tokens lost in lapsed or piled-up leases);",
    "consumer DO/1k: calls into the key's consumer's object per 1,000 requests (made at the same time as the key's).",
    "saturated: the runtime or this machine did not keep up with the rate (answers ended over a second late, or",
    "requests waited for one of the stream's 256 connections): its latencies are those of a queue.",
  ].join("\n");
}
