/**
 * What the per-operation admin tests (one file per operation in test/admin/) share: reading keys back, a
 * request through the gateway, and the security cases every operation has (wrong credentials).
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import type { KeyView } from "../../src/keys/key-record";
import { d1Snapshot } from "../faults/wrappers";
import { admin, ADMIN_TOKEN, call, callWith, mintKey, problemOf } from "../helpers";
import { testClock } from "../clock";

export const getKey = async (id: string) => (await (await admin(`/keys/${id}`, { method: "GET" })).json()) as KeyView;
export const patch = (id: string, json: unknown) => admin(`/keys/${id}`, { method: "PATCH", json });
/** A gateway request with the key (background work awaited). */
export const through = (apiKey: string, init: RequestInit = {}) =>
  callWith({}, "/api/v1/x", { ...init, headers: { "X-API-Key": apiKey, ...(init.headers as Record<string, string>) } });
export const versionOf = async (id: string) =>
  (await env.DB.prepare("SELECT version FROM api_keys WHERE id = ?").bind(id).first<{ version: number }>())!.version;
export const countKeys = async () =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys").first<{ n: number }>())!.n;
/** Moves a key past its expiry, as time would. */
export const expire = (id: string) =>
  env.DB.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?")
    .bind(testClock.now() - 1, id)
    .run();

/** One call of an operation: what a wrong credential is tried on. */
export interface AdminCall {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  json?: unknown;
}

const WRONG_CREDENTIALS: [string, () => Promise<Record<string, string>>][] = [
  ["no credential", async () => ({})],
  ["a wrong token", async () => ({ Authorization: "Bearer not-the-token" })],
  ["the token under another scheme", async () => ({ Authorization: `Basic ${ADMIN_TOKEN}` })],
  [
    "an API key with the admin scope",
    async () => ({ Authorization: `Bearer ${(await mintKey({ scopes: ["admin"] })).apiKey}` }),
  ],
];

/**
 * The operation refuses every wrong credential with 401 `admin_unauthorized` and changes nothing (`snapshot`:
 * what it could change; D1's keys and audit rows unless told otherwise).
 * @example itRefusesWrongCredentials(async () => ({ method: "POST", path: `/keys/${(await mintKey()).id}/revoke` }));
 */
export function itRefusesWrongCredentials(
  operation: () => Promise<AdminCall>,
  snapshot: () => Promise<unknown> = d1Snapshot,
): void {
  it.each(WRONG_CREDENTIALS)("refuses %s with 401 and changes nothing", async (_label, credential) => {
    const { method, path, json } = await operation();
    const headers = await credential();
    if (json !== undefined) headers["Content-Type"] = "application/json";
    const before = await snapshot();
    const res = await call(`/admin/v1${path}`, {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="admin"');
    expect((await problemOf(res)).code).toBe("admin_unauthorized");
    expect(await snapshot()).toEqual(before);
  });
}
