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

/** A floor's two runs (before and after the scenarios) as one: mean rate and percentiles, the larger max. */
function floorSummary(name, before, after) {
  const mean = (k) => Math.round(((before[k] + after[k]) / 2) * 100) / 100;
  const statuses = { ...before.statuses };
  for (const [code, n] of Object.entries(after.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
  return {
    name,
    expect: 200,
    statuses,
    ok: statusesAsExpected(before, 200) && statusesAsExpected(after, 200),
    rps: Math.round(mean("rps")),
    p50_ms: mean("p50_ms"),
    p99_ms: mean("p99_ms"),
    max_ms: Math.max(before.max_ms, after.max_ms),
    peak_rss_mib: before.peak_rss_mib,
    runs: { before_scenarios: before, after_scenarios: after },
  };
}

/** Floors and scenarios as reported: timings, the ratio to the floor, and the counting pass's counts. */
export function summarize(floorList, timing, counting) {
  const floors = floorList.map((f) => floorSummary(f.name, timing.floorsBefore[f.name], timing.floorsAfter[f.name]));
  const floorRps = Object.fromEntries(floors.map((f) => [f.name, f.rps]));
  const scenarios = timing.scenarios.map((s, i) => {
    const r = timing.results[i];
    const c = counting?.[i] ?? { ok: true }; // absent in an --only run
    return {
      name: s.name,
      via: s.via,
      expect: s.expect,
      ok: statusesAsExpected(r, s.expect) && c.ok,
      ...r,
      floor: s.floor,
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
    "D1/1k",
    "D1 later",
    "KV rd/1k",
    "KV wr/1k",
    "DO/1k",
    "peak MiB",
  ];
  const rows = [];
  for (const f of floors) {
    rows.push([
      `floor: ${f.name}`,
      f.ok ? `${f.expect} ok` : "WRONG",
      String(f.rps),
      "1",
      fmt(f.p50_ms, 2),
      fmt(f.p99_ms, 2),
      fmt(f.max_ms, 1),
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
    `${settings.mode} run: ${settings.connections} connections, ${settings.warmup_s} s warm-up, then ${settings.seconds} s or ${settings.max_requests.toLocaleString("en")} requests per scenario; counts from ${settings.count_requests.toLocaleString("en")}+ requests on an instrumented build`,
    "",
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    "",
    "vs floor: requests per second as a fraction of the floor's, measured in the same runtime in the same run.",
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
