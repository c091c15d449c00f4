/**
 * Latency wrappers around the real local bindings, for the benchmark's edge mode (`npm run bench -- --edge`):
 * locally every binding call is a loopback hop, deployed it is a trip to another machine, often another
 * continent. Each wrapper waits, then calls the real binding, so every behaviour stays the real one and only
 * the time it takes changes. Built into bench/instrumented-entry.ts; never deployed.
 *
 * - The key's Durable Object: half the round trip before the call, half after, so that the object decides at
 *   the moment a remote one would, and its answer (a lease's expiry) arrives as late as a remote one would.
 * - KV and D1: one fixed wait before each call (a read's or a statement's whole time away).
 */

type Fn = (...args: unknown[]) => unknown;

/** Delays in milliseconds; 0 leaves that binding as it is. */
export interface Delays {
  objectRttMs: number;
  kvMs: number;
  d1Ms: number;
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Every method of `target` waits `beforeMs`, calls the real method, then waits `afterMs` before it answers. */
function delayed<T extends object>(target: T, beforeMs: number, afterMs = 0): T {
  return new Proxy(target, {
    get(t, prop) {
      const value = Reflect.get(t, prop);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        await wait(beforeMs);
        // Reflect.apply, not value.apply: on an RPC stub `.apply` would be a remote method.
        const result = await Reflect.apply(value as Fn, t, args);
        if (afterMs > 0) await wait(afterMs);
        return result;
      };
    },
  });
}

/** Wrapped statements, mapped back to the real ones for db.batch(). */
const realStatement = new WeakMap<object, D1PreparedStatement>();

function delayedStatement(statement: D1PreparedStatement, ms: number): D1PreparedStatement {
  const wrapped = new Proxy(statement, {
    get(t, prop) {
      if (prop === "bind") return (...values: unknown[]) => delayedStatement(t.bind(...values), ms);
      const value = Reflect.get(t, prop);
      if (typeof value !== "function") return value;
      if (prop === "first" || prop === "all" || prop === "run" || prop === "raw") {
        return async (...args: unknown[]) => {
          await wait(ms);
          return Reflect.apply(value as Fn, t, args);
        };
      }
      return (value as Fn).bind(t);
    },
  });
  realStatement.set(wrapped, statement);
  return wrapped;
}

/** The statement a wrapped one stands for (the real binding's batch() takes only its own statements). */
const unwrapStatement = (s: D1PreparedStatement): D1PreparedStatement => realStatement.get(s) ?? s;

/** D1 where every statement run, batch and exec waits `ms` first (a batch is one trip). */
export function delayedD1(db: D1Database, ms: number): D1Database {
  if (ms <= 0) return db;
  return new Proxy(db, {
    get(t, prop) {
      if (prop === "prepare") return (sql: string) => delayedStatement(t.prepare(sql), ms);
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          await wait(ms);
          return t.batch(statements.map(unwrapStatement));
        };
      }
      if (prop === "exec") {
        return async (sql: string) => {
          await wait(ms);
          return t.exec(sql);
        };
      }
      const value = Reflect.get(t, prop);
      return typeof value === "function" ? (value as Fn).bind(t) : value;
    },
  });
}

/** KV where every call (reads and writes alike) waits `ms` first. */
export function delayedKv(kv: KVNamespace, ms: number): KVNamespace {
  return ms <= 0 ? kv : delayed(kv, ms);
}

/** The key objects' namespace: every call on a stub pays `rttMs`, half on the way there, half back. */
export function delayedObjects<N extends object>(ns: N, rttMs: number): N {
  if (rttMs <= 0) return ns;
  return new Proxy(ns, {
    get(t, prop) {
      const value = Reflect.get(t, prop);
      if (typeof value !== "function") return value;
      if (prop !== "get") return (value as Fn).bind(t);
      return (...args: unknown[]) => delayed(Reflect.apply(value as Fn, t, args) as object, rttMs / 2, rttMs / 2);
    },
  });
}

/** The delays an authorizer instance was started with (string vars, as miniflare passes them). */
export function delaysFrom(env: object): Delays {
  const read = (name: string) => {
    const n = Number((env as Record<string, unknown>)[name] ?? 0);
    return Number.isFinite(n) && n > 0 ? n : 0;
  };
  return { objectRttMs: read("BENCH_OBJECT_RTT_MS"), kvMs: read("BENCH_KV_MS"), d1Ms: read("BENCH_D1_MS") };
}
