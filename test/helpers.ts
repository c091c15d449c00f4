/** Shared helpers: requests through the real Worker, keys minted through the real admin API. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import worker from "../src/index";
import type { KeyView } from "../src/keys/key-record";
import type { CreateKeyResult } from "../src/operations/create-key";

export const ADMIN_TOKEN = "test-admin-token-0123456789";
export const BASE = "https://authorizer.test";

/** A request through the deployed Worker's fetch handler, with the test env. */
export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`${BASE}${path}`, init));
}

/**
 * A request through the Worker with some bindings replaced (a counting or failing wrapper around the real
 * binding). Waits for the request's background work (cache refills) before returning.
 */
export async function callWith(overrides: Partial<Cloudflare.Env>, path: string, init: RequestInit = {}) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`${BASE}${path}`, init),
    { ...env, ...overrides } as Cloudflare.Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

export function admin(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("Authorization")) headers.set("Authorization", `Bearer ${ADMIN_TOKEN}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("Content-Type", "application/json");
    body = JSON.stringify(init.json);
  }
  return call(`/admin/v1${path}`, { method: "POST", ...init, headers, body });
}

export interface MintedKey {
  apiKey: string;
  id: string;
  key: KeyView;
}

/** Mints a key through POST /admin/v1/keys; fails the test if the API refuses. */
export async function mintKey(body: Record<string, unknown> = {}): Promise<MintedKey> {
  const response = await admin("/keys", { json: { owner_id: "owner-1", ...body } });
  if (response.status !== 201) throw new Error(`mint failed: ${response.status} ${await response.text()}`);
  const json = (await response.json()) as CreateKeyResult;
  return { apiKey: json.api_key, id: json.key.id, key: json.key };
}

export async function revoke(id: string, reason?: string): Promise<Response> {
  return admin(`/keys/${id}/revoke`, reason === undefined ? {} : { json: { reason } });
}

/** A gateway request carrying the key and a unique trace id the origin fixture remembers. */
export function gateway(path: string, apiKey: string | null, init: RequestInit = {}) {
  const trace = crypto.randomUUID();
  const headers = new Headers(init.headers);
  headers.set("X-Test-Trace", trace);
  if (apiKey !== null) headers.set("X-API-Key", apiKey);
  return { trace, response: call(path, { ...init, headers }) };
}

/** The status the gateway answers a key with (through `callWith`, so its background work is done; body discarded). */
export async function gatewayStatus(apiKey: string): Promise<number> {
  const response = await callWith({}, "/api/v1/x", { headers: { "X-API-Key": apiKey } });
  await response.body?.cancel();
  return response.status;
}

/** Whether the origin fixture ever received the request with this trace id. */
export async function originSaw(trace: string): Promise<boolean> {
  const response = await env.ORIGIN!.fetch(`https://origin.test/__seen?trace=${trace}`);
  return ((await response.json()) as { seen: boolean }).seen;
}

export interface Echo {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export async function problemOf(response: Response) {
  expect(response.headers.get("Content-Type")).toBe("application/problem+json");
  expect(response.headers.get("Cache-Control")).toBe("no-store");
  return (await response.json()) as { type: string; title: string; status: number; code: string; request_id: string };
}

/** Wraps a D1 binding and counts the statements prepared through it, remembering the SQL of each. */
export function countingD1(db: D1Database) {
  const counter = { statements: 0 };
  const sql: string[] = [];
  const wrapped = new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") {
        return (text: string) => {
          counter.statements++;
          sql.push(text);
          return target.prepare(text);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db: wrapped, counter, sql };
}

/** Wraps a KV binding and counts reads and writes. */
export function countingKV(kv: KVNamespace) {
  const counter = { gets: 0, puts: 0 };
  const wrapped = new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (prop === "get") counter.gets++;
        if (prop === "put") counter.puts++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { kv: wrapped, counter };
}
