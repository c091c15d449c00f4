/**
 * Failing wrappers around the real bindings, and snapshots of D1 to prove a failed call changed nothing.
 * Each wrapper passes everything through to the real binding except the operations it is told to break.
 */
import { env } from "cloudflare:workers";

/** A binding method that throws, hangs, or answers something else. */
export type Fault = "throw" | "hang" | { answer: unknown };

function broken(fault: Fault, what: string) {
  return async (..._args: unknown[]) => {
    if (fault === "throw")
      throw new Error(
        what === "D1" ? `D1_ERROR: near "SELECT key_hash FROM api_keys": unavailable` : `${what} unavailable`,
      );
    if (fault === "hang") return new Promise(() => {});
    return fault.answer;
  };
}

/** Replaces the named methods of an object by faults; everything else is the real thing, bound to it. */
export function breaking<T extends object>(target: T, faults: Partial<Record<string, Fault>>, what = "binding"): T {
  return new Proxy(target, {
    get(t, prop) {
      const fault = faults[prop as string];
      if (fault !== undefined) return broken(fault, what);
      const value = Reflect.get(t, prop);
      return typeof value === "function" ? value.bind(t) : value;
    },
  });
}

/** A statement that fails when run, however it is bound. */
function deadStatement(statement: D1PreparedStatement): D1PreparedStatement {
  return new Proxy(statement, {
    get(target, prop) {
      if (prop === "bind") return (...values: unknown[]) => deadStatement(target.bind(...values));
      if (prop === "first" || prop === "all" || prop === "run" || prop === "raw") return broken("throw", "D1");
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** D1 that cannot run anything: every statement fails when run, as when D1 is down or unreachable. */
export function downD1(): D1Database {
  return new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => deadStatement(target.prepare(sql));
      if (prop === "batch" || prop === "exec") return broken("throw", "D1");
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** D1 that reads but cannot write: every batch (each mutation is one) fails. */
export function readOnlyD1(): D1Database {
  return breaking(env.DB, { batch: "throw", exec: "throw" }, "D1");
}

/**
 * A Durable Object namespace whose stubs are what `wrap` makes of the real ones (an object with the methods a
 * test lets through, changed as it likes); everything else about the namespace is the real one.
 */
export function wrappingStubs<T extends Rpc.DurableObjectBranded>(
  ns: DurableObjectNamespace<T>,
  wrap: (stub: DurableObjectStub<T>) => object,
): DurableObjectNamespace<T> {
  return new Proxy(ns, {
    get(target, prop) {
      if (prop === "get") return (id: DurableObjectId) => wrap(target.get(id));
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The KEY_OBJECT namespace with some methods of every stub broken. */
export function breakingKeyObjects(faults: Partial<Record<"acquire" | "applyChange" | "prepareChange", Fault>>) {
  const calls: string[] = [];
  const ns = new Proxy(env.KEY_OBJECT, {
    get(target, prop) {
      if (prop === "get") {
        return (id: DurableObjectId) => {
          const stub = target.get(id);
          return new Proxy(stub, {
            get(s, p) {
              const value = Reflect.get(s, p);
              if (typeof value !== "function") return value;
              return async (...args: unknown[]) => {
                calls.push(String(p));
                const fault = faults[p as keyof typeof faults];
                if (fault !== undefined) return broken(fault, "Durable Object")();
                return (s as unknown as Record<string, (...a: unknown[]) => unknown>)[p as string]!(...args);
              };
            },
          });
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { ns: ns as DurableObjectNamespace<import("../../src/limits/key-object").KeyObject>, calls };
}

/** Every row count that an admin change could touch, to prove a refused or failed call changed nothing. */
export async function d1Snapshot(): Promise<string> {
  const keys = await env.DB.prepare(
    "SELECT id, status, version, name, scopes, rate_limits, ip_allowlist, expires_at, grace_until, rotated_to, revoked_at FROM api_keys ORDER BY id",
  ).all();
  const audit = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_log").first<{ n: number }>();
  return JSON.stringify({ keys: keys.results, audit: audit?.n });
}
