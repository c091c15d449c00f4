/**
 * The decision pipeline, shared by the gateway and the RPC entrypoint. It reads top to bottom in the order
 * the checks are made, and every path that is not the last line refuses.
 */
import type { Config } from "../config";
import type { ProblemCode } from "../http/problem";
import { parseKey } from "../keys/format";
import { sha256Hex } from "../keys/hash";
import { lookupKey, type KeyStores } from "../keys/lookup";
import { effectiveStatus } from "../keys/record";
import { ipInRanges } from "./network";
import { requiredScopes, routeMatches } from "./routes";

export interface VerifyInput {
  /** The presented credential, as read from the request. */
  key: string;
  method: string;
  /** Canonical, decoded path segments (see `canonicalPath`). */
  segments: readonly string[];
  /** The client address: `CF-Connecting-IP` at the gateway, the caller's `ip` over RPC. */
  ip: string | null;
  origin: string | null;
}

export type Decision =
  | {
      valid: true;
      code: "valid";
      key_id: string;
      owner_id: string;
      scopes: string[];
      environment: "live" | "test";
      metadata: Record<string, unknown>;
    }
  | { valid: false; code: ProblemCode; required_scopes?: string[] };

const refuse = (code: ProblemCode): Decision => ({ valid: false, code });

export async function verifyKey(stores: KeyStores, config: Config, input: VerifyInput, now: number): Promise<Decision> {
  // 1. Grammar and checksum: a mistyped or invented key costs no storage read.
  if (!parseKey(input.key, config.vendor)) return refuse("invalid_key");

  // 2–3. Hash, then isolate cache → KV → D1.
  let live;
  try {
    live = await lookupKey(stores, await sha256Hex(input.key), now);
  } catch {
    console.error("verify: D1 lookup failed; refusing with authorizer_unavailable");
    return refuse("authorizer_unavailable");
  }
  if (!live) return refuse("invalid_key");
  const { record } = live;

  // 4. Status, then expiry and rotation grace.
  const status = effectiveStatus(record, now);
  if (status === "revoked") return refuse("key_revoked");
  if (status === "disabled") return refuse("key_disabled");
  if (status === "expired") return refuse("key_expired");

  // 5. Client address against the key's allowlist. No address known means not allowed.
  if (live.ipRestricted && (input.ip === null || !ipInRanges(input.ip, live.ipRanges))) return refuse("ip_not_allowed");

  // 6. Browser origin, for publishable keys that name their origins.
  if (record.type === "publishable" && record.allowed_origins.length > 0) {
    if (input.origin === null || !record.allowed_origins.includes(input.origin)) return refuse("origin_not_allowed");
  }

  // 7. The key's own route restriction.
  if (live.routeRestricted && !live.routes.some((r) => routeMatches(r, input.method, input.segments))) {
    return refuse("route_not_allowed");
  }

  // 8. The scopes the route policy asks for; a route no rule covers is refused.
  const required = requiredScopes(config.routePolicy, input.method, input.segments);
  if (required === null) return { valid: false, code: "insufficient_scope", required_scopes: [] };
  if (required.length > 0 && !required.some((s) => record.scopes.includes(s))) {
    return { valid: false, code: "insufficient_scope", required_scopes: required };
  }

  return {
    valid: true,
    code: "valid",
    key_id: record.id,
    owner_id: record.owner_id,
    scopes: record.scopes,
    environment: record.environment,
    metadata: record.metadata,
  };
}
