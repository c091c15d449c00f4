/**
 * The Worker with counting wrappers around its storage bindings, for the benchmark's counting pass and its
 * edge mode; the timing pass always runs the real, uninstrumented bundle. Built by scripts/bench.mjs with
 * `wrangler deploy --dry-run bench/instrumented-entry.ts`, never deployed.
 *
 * Counted: D1 statements executed (a batch counts each of its statements), KV reads and writes, and calls
 * into the key's Durable Object, from the fetch handler, the AuthService entrypoint and the KeyObject alike
 * (in workerd they share this isolate, so one set of totals sees all three); and, per key id, the calls into
 * its object and the tokens its grants carried (the edge mode runs two keys at once).
 * GET /__bench/counts answers the totals and resets them.
 *
 * With the BENCH_OBJECT_RTT_MS, BENCH_KV_MS and BENCH_D1_MS vars set (the edge mode), each binding call also
 * waits that long (bench/delays.ts), under the counting wrappers.
 */
import worker, {
  AuthService as RealAuthService,
  ConsumerObject as RealConsumerObject,
  KeyObject as RealKeyObject,
} from "../src/index";
import { delayedD1, delayedKv, delayedObjects, delaysFrom } from "./delays";

const counts = { d1_queries: 0, kv_reads: 0, kv_writes: 0, object_calls: 0, consumer_object_calls: 0 };
/** keyId → calls into its object, and tokens granted to it (acquire answers' `granted`). */
let byKey: Record<string, { object_calls: number; tokens_granted: number }> = {};

type Fn = (...args: unknown[]) => unknown;

/** A Proxy that calls `onCall(name, args)` before each method call and may replace the result. */
function counting<T extends object>(
  target: T,
  onCall: (name: string, args: unknown[]) => void,
  wrap?: (name: string, result: unknown, args: unknown[]) => unknown,
): T {
  return new Proxy(target, {
    get(t, prop) {
      const value = Reflect.get(t, prop);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        onCall(String(prop), args);
        // Reflect.apply, not value.apply: on an RPC stub `.apply` would be a remote method.
        const result = Reflect.apply(value as Fn, t, args);
        return wrap ? wrap(String(prop), result, args) : result;
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

/** The key id an object call is about: acquire({ keyId }), prepareChange(keyId), applyChange({ id }). */
function keyIdOf(arg: unknown): string {
  if (typeof arg === "string") return arg;
  const a = arg as { keyId?: unknown; id?: unknown; consumerId?: unknown } | undefined;
  if (a?.consumerId !== undefined) return `consumer:${String(a.consumerId)}`;
  return String(a?.keyId ?? a?.id ?? "unknown");
}

function perKey(keyId: string) {
  let entry = byKey[keyId];
  if (!entry) {
    entry = { object_calls: 0, tokens_granted: 0 };
    byKey[keyId] = entry;
  }
  return entry;
}

function countingObjects<N extends object>(ns: N, total: "object_calls" | "consumer_object_calls"): N {
  const onCall = (_name: string, args: unknown[]) => {
    counts[total]++;
    perKey(keyIdOf(args[0])).object_calls++;
  };
  const onResult = (name: string, result: unknown, args: unknown[]) => {
    if (name !== "acquire") return result;
    return (result as Promise<{ ok: boolean; granted?: number }>).then((answer) => {
      if (answer.ok) perKey(keyIdOf(args[0])).tokens_granted += answer.granted ?? 0;
      return answer;
    });
  };
  return counting(
    ns,
    () => {},
    (name, result) => (name === "get" ? counting(result as object, onCall, onResult) : result),
  );
}

/** The delay wrappers go under the counting ones: a delayed call is counted when it is made. */
function instrument(env: Cloudflare.Env): Cloudflare.Env {
  const delays = delaysFrom(env);
  return {
    ...env,
    DB: countingD1(delayedD1(env.DB, delays.d1Ms)),
    KEY_CACHE: countingKv(delayedKv(env.KEY_CACHE, delays.kvMs)),
    KEY_OBJECT: countingObjects(delayedObjects(env.KEY_OBJECT, delays.objectRttMs), "object_calls"),
    CONSUMER_OBJECT: countingObjects(delayedObjects(env.CONSUMER_OBJECT, delays.objectRttMs), "consumer_object_calls"),
  };
}

export class AuthService extends RealAuthService {
  constructor(ctx: ExecutionContext, env: Cloudflare.Env) {
    super(ctx, instrument(env));
  }
}

export class KeyObject extends RealKeyObject {
  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    // The object's own D1 reads pay the D1 delay too: D1's primary is rarely where the object is.
    super(ctx, { ...env, DB: countingD1(delayedD1(env.DB, delaysFrom(env).d1Ms)) });
  }
}

export class ConsumerObject extends RealConsumerObject {
  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, { ...env, DB: countingD1(delayedD1(env.DB, delaysFrom(env).d1Ms)) });
  }
}

export default {
  async fetch(request: Request, env: Cloudflare.Env, ctx: ExecutionContext) {
    if (new URL(request.url).pathname === "/__bench/counts") {
      const body = Response.json({ ...counts, by_key: byKey });
      for (const name of Object.keys(counts) as (keyof typeof counts)[]) counts[name] = 0;
      byKey = {};
      return body;
    }
    return worker.fetch(request, instrument(env), ctx);
  },
} satisfies ExportedHandler<Cloudflare.Env>;
