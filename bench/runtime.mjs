// The runtime side of the benchmark: building the Worker, and booting it with its floors in workerd
// through the miniflare API, each Worker on its own loopback socket, on temporary storage.
import { spawnSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { join, resolve } from "node:path";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig, unstable_splitSqlQuery } from "wrangler";

// wrangler reads this when it logs: keeps its notes (e.g. that .dev.vars exists; it is not used here) quiet.
process.env.WRANGLER_LOG ??= "warn";

export const ROOT = resolve(import.meta.dirname, "..");
const WRANGLER = join(ROOT, "node_modules/.bin/wrangler");
const WORKERS = join(ROOT, "bench/workers");
const HOST = "127.0.0.1";

/**
 * Bundles the Worker (or another entry with the same config) exactly as `wrangler deploy` would, into
 * `outdir`; answers the path of the bundle's main module.
 */
export function build(outdir, entry) {
  const args = ["deploy", "--dry-run", "--outdir", outdir, ...(entry ? [entry] : [])];
  const result = spawnSync(WRANGLER, args, {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  if (result.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  const main = readdirSync(outdir).find((f) => f.endsWith(".js"));
  if (!main) throw new Error(`no bundle in ${outdir}`);
  return join(outdir, main);
}

/**
 * The authorizer's worker options, from wrangler.toml as wrangler itself turns it into miniflare options,
 * pointed at a prebuilt bundle. Vars are wrangler.toml's `[vars]` only (never .dev.vars), plus `vars`.
 */
export function authorizerWorker(name, bundle, vars) {
  const config = unstable_readConfig({ config: join(ROOT, "wrangler.toml") }, { hideWarnings: true });
  const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
  const { modulesRules, rootPath, connectHandlers, ...options } = workerOptions;
  return {
    ...options,
    name,
    modules: true,
    scriptPath: bundle,
    modulesRoot: join(bundle, ".."),
    bindings: { ...config.vars, ...vars },
    serviceBindings: { ORIGIN: "origin" },
  };
}

/** A small Worker from bench/workers/. */
export function benchWorker(name, file, serviceBindings = {}) {
  return { name, modules: true, scriptPath: join(WORKERS, file), compatibilityDate: "2026-11-01", serviceBindings };
}

/** The workerd processes that are children of this process (none found where there is no /proc). */
function workerdPids() {
  if (!existsSync("/proc")) return [];
  const pids = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so split after the last ")".
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && comm.startsWith("workerd")) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

function statusKiB(pid, field) {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) : 0;
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/**
 * Starts one workerd process (one Miniflare instance) with these Workers, each on its own loopback port so
 * that every Worker, floors included, is reached the same way. D1, KV and Durable Objects live under
 * `stateDir` (a temporary directory: two runtimes started one after the other on it see the same data).
 * Workers named in `inspect` get a DevTools inspector (see isolateHeap). Dispose it when done, also on error.
 */
export async function startRuntime(workers, stateDir, { inspect = [] } = {}) {
  const before = new Set(workerdPids());
  // The Workers' own log lines (one per refusal) go to a file, not this terminal: printing tens of
  // thousands of lines a second would take the load generator's CPU, on the same cores, from the load.
  mkdirSync(join(ROOT, "bench/tmp"), { recursive: true });
  const workerLog = createWriteStream(join(ROOT, "bench/tmp/workerd.log"), { flags: "a" });
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: HOST,
      port: 0,
      resourcePersistencePath: stateDir,
      handleStructuredLogs: ({ level, message }) => workerLog.write(`${level} ${message}\n`),
      ...(inspect.length > 0 ? { inspectorPort: 0 } : {}),
      workers: workers.map((w) => ({
        ...w,
        unsafeDirectSockets: [{ host: HOST, port: 0 }],
        ...(inspect.includes(w.name) ? { unsafeInspectorProxy: true } : {}),
      })),
    }),
  );
  try {
    await mf.ready;
    const urls = {};
    for (const w of workers) urls[w.name] = (await mf.unsafeGetDirectURL(w.name)).href.replace(/\/$/, "");
    const pids = workerdPids().filter((p) => !before.has(p));
    if (pids.length === 0) console.warn("bench: no workerd process found under /proc: memory is not reported");
    return {
      mf,
      urls,
      pids,
      /** CPU seconds (user + system) the runtime's workerd process(es) have used so far; null without /proc. */
      cpuSeconds() {
        return pids.length === 0 ? null : pids.reduce((total, pid) => total + cpuSeconds(pid), 0);
      },
      /** Current and peak resident memory of the runtime's workerd process(es), in MiB. */
      memory() {
        if (pids.length === 0) return { rss_mib: null, peak_rss_mib: null };
        const sum = (field) => pids.reduce((total, pid) => total + statusKiB(pid, field), 0) / 1024;
        return { rss_mib: round1(sum("VmRSS")), peak_rss_mib: round1(sum("VmHWM")) };
      },
      /**
       * Waits until workerd has been idle (under 5% of a core) for a second, e.g. while Durable Object alarms
       * left by the last scenario run, at most `maxMs`; answers the seconds waited.
       */
      async waitIdle(maxMs) {
        const started = Date.now();
        if (pids.length === 0) return 0;
        const used = () => pids.reduce((total, pid) => total + cpuSeconds(pid), 0);
        let quiet = 0;
        while (quiet < 2 && Date.now() - started < maxMs) {
          const before = used();
          await sleep(500);
          quiet = used() - before < 0.025 ? quiet + 1 : 0;
        }
        return round1((Date.now() - started) / 1000);
      },
      /** Resets the peak (VmHWM) to the current RSS, so the next reading is the peak since now. False if not allowed. */
      resetPeak() {
        if (pids.length === 0) return false;
        try {
          for (const pid of pids) writeFileSync(`/proc/${pid}/clear_refs`, "5");
          return true;
        } catch {
          return false;
        }
      },
    };
  } catch (error) {
    await mf.dispose();
    throw error;
  }
}

const round1 = (n) => Math.round(n * 10) / 10;

/**
 * The V8 heap of one Worker's isolate, in MiB, through the DevTools protocol (Runtime.getHeapUsage): the
 * authorizer's own memory, apart from the local D1 and KV simulators that share its workerd process.
 * workerd answers inspector messages when the isolate next runs, so `nudge` (a cheap URL) is fetched until
 * the answer arrives.
 */
export async function isolateHeap(mf, workerName, nudge) {
  const inspector = await mf.getInspectorURL();
  // The inspector proxy only admits DevTools-like clients from loopback origins.
  const ws = new WebSocket(`ws://${inspector.host}/${workerName}`, { headers: { Origin: `http://${HOST}` } });
  try {
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error(`could not open the inspector of ${workerName}`));
    });
    const answer = new Promise((resolve) => {
      ws.onmessage = (event) => {
        const message = JSON.parse(String(event.data));
        if (message.id === 1) resolve(message.result);
      };
    });
    ws.send(JSON.stringify({ id: 1, method: "Runtime.getHeapUsage" }));
    const deadline = Date.now() + 10_000;
    let result;
    while (!result && Date.now() < deadline) {
      await (await fetch(nudge)).arrayBuffer();
      result = await Promise.race([answer, new Promise((resolve) => setTimeout(resolve, 50))]);
    }
    if (!result) throw new Error(`no heap usage from the inspector of ${workerName}`);
    return { used_mib: round1(result.usedSize / 2 ** 20), total_mib: round1(result.totalSize / 2 ** 20) };
  } finally {
    ws.close();
  }
}

/** Applies migrations/*.sql, in order, to the D1 database bound as DB to `workerName`. */
export async function migrate(mf, workerName) {
  const db = await mf.getD1Database("DB", workerName);
  const dir = join(ROOT, "migrations");
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    const statements = unstable_splitSqlQuery(readFileSync(join(dir, file), "utf8"));
    await db.batch(statements.map((sql) => db.prepare(sql)));
  }
}
