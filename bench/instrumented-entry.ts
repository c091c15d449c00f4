/**
 * The Worker with counting wrappers around its storage bindings, for the benchmark's counting pass only;
 * timings always come from the real, uninstrumented bundle. Built by scripts/bench.mjs with
 * `wrangler deploy --dry-run bench/instrumented-entry.ts`, never deployed.
 *
 * Counted: D1 statements executed (a batch counts each of its statements), KV reads and writes, and calls
 * into the key's Durable Object, from the fetch handler, the AuthService entrypoint and the KeyObject alike
 * (in workerd they share this isolate, so one set of totals sees all three).
 * GET /__bench/counts answers the totals and resets them.
 */
import worker, { AuthService as RealAuthService, KeyObject as RealKeyObject } from "../src/index";

const counts = { d1_queries: 0, kv_reads: 0, kv_writes: 0, object_calls: 0 };

type Fn = (...args: unknown[]) => unknown;

/** A Proxy that calls `onCall(name, args)` before each method call and may replace the result. */
function counting<T extends object>(
  target: T,
  onCall: (name: string, args: unknown[]) => void,
  wrap?: (name: string, result: unknown) => unknown,
): T {
  return new Proxy(target, {
    get(t, prop) {
      const value = Reflect.get(t, prop);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        onCall(String(prop), args);
        // Reflect.apply, not value.apply: on an RPC stub `.apply` would be a remote method.
        const result = Reflect.apply(value as Fn, t, args);
        return wrap ? wrap(String(prop), result) : result;
      };
    },
  });
}

/** Wrapped statements, mapped back to the real ones for db.batch(). */
const realStatement = new WeakMap<object, D1PreparedStatement>();

function countingStatement(statement: D1PreparedStatement): D1PreparedStatement {
  const wrapped = counting(
    statement,
    (name) => {
      if (name === "first" || name === "all" || name === "run" || name === "raw") counts.d1_queries++;
    },
    (name, result) => (name === "bind" ? countingStatement(result as D1PreparedStatement) : result),
  );
  realStatement.set(wrapped, statement);
  return wrapped;
}

function countingD1(db: D1Database): D1Database {
  return new Proxy(db, {
    get(t, prop) {
      if (prop === "prepare") return (sql: string) => countingStatement(t.prepare(sql));
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) => {
          counts.d1_queries += statements.length;
          return t.batch(statements.map((s) => realStatement.get(s) ?? s));
        };
      }
      if (prop === "exec") {
        return (sql: string) => {
          counts.d1_queries++;
          return t.exec(sql);
        };
      }
      const value = Reflect.get(t, prop);
      return typeof value === "function" ? (value as Fn).bind(t) : value;
    },
  });
}

function countingKv(kv: KVNamespace): KVNamespace {
  return counting(kv, (name) => {
    if (name === "get" || name === "getWithMetadata" || name === "list") counts.kv_reads++;
    if (name === "put" || name === "delete") counts.kv_writes++;
  });
}

function countingObjects(ns: Cloudflare.Env["KEY_OBJECT"]): Cloudflare.Env["KEY_OBJECT"] {
  return counting(
    ns,
    () => {},
    (name, result) => (name === "get" ? counting(result as object, () => counts.object_calls++) : result),
  ) as Cloudflare.Env["KEY_OBJECT"];
}

function instrument(env: Cloudflare.Env): Cloudflare.Env {
  return {
    ...env,
    DB: countingD1(env.DB),
    KEY_CACHE: countingKv(env.KEY_CACHE),
    KEY_OBJECT: countingObjects(env.KEY_OBJECT),
  };
}

export class AuthService extends RealAuthService {
  constructor(ctx: ExecutionContext, env: Cloudflare.Env) {
    super(ctx, instrument(env));
  }
}

export class KeyObject extends RealKeyObject {
  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, { ...env, DB: countingD1(env.DB) });
  }
}

export default {
  async fetch(request: Request, env: Cloudflare.Env, ctx: ExecutionContext) {
    if (new URL(request.url).pathname === "/__bench/counts") {
      const body = Response.json(counts);
      for (const name of Object.keys(counts) as (keyof typeof counts)[]) counts[name] = 0;
      return body;
    }
    return worker.fetch(request, instrument(env), ctx);
  },
} satisfies ExportedHandler<Cloudflare.Env>;
