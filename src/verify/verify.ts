/**
 * The decision pipeline, shared by the gateway and the RPC entrypoint. It reads top to bottom in the order
 * the checks are made, and every path that is not the last line refuses.
 */
import type { Config } from "../config";
import type { DecisionSink, RequestCf, WaitUntil } from "../http/context";
import type { ProblemCode } from "../http/problem";
import { parseKey } from "../keys/format";
import { sha256Hex } from "../keys/hash";
import {
  knownKey,
  loadKey,
  mayBeCached,
  REFUSAL_RECHECK_MS,
  reloadKey,
  type KeyStores,
  type PresentedKey,
} from "../keys/lookup";
import { effectiveStatus, statusRefusal, type LiveKey } from "../keys/key-record";
import { admit, type LimitStores } from "../limits/leases";
import { peekAdmission } from "../limits/peek";
import { recordRefusal, throttledUntil } from "./throttle";
import type { Decision } from "../http/decision";
import { log } from "../util/log";
import { ipInRanges } from "../util/ip";
import { matchingRule, routeMatches, type PolicyRule } from "../http/route-policy";

export interface VerifyInput {
  /** The presented credential, as read from the request. */
  key: string;
  method: string;
  /** Canonical, decoded path segments (see `canonicalPath`). */
  segments: readonly string[];
  /** The client address: `CF-Connecting-IP` at the gateway, the caller's `ip` over RPC. */
  ip: string | null;
  origin: string | null;
  /** `request.cf` at the gateway (ASN, country), for monitoring only. */
  cf?: RequestCf;
}

type Refusal = Extract<Decision, { valid: false }>;

const refuse = (code: ProblemCode): Refusal => ({ valid: false, code });

/**
 * Refusals that say the credential itself is bad. They count towards the client's refusal throttle only when
 * the decision had to read KV or D1: the throttle keeps floods of made-up keys off storage, and a refusal
 * decided on what the isolate already knows costs nothing, so it must not lock out a valid neighbour
 * behind the same address.
 */
const CREDENTIAL_REFUSALS: ReadonlySet<ProblemCode> = new Set([
  "invalid_key",
  "key_revoked",
  "key_expired",
  "key_disabled",
]);

export type VerifyStores = KeyStores & LimitStores & { decisions: DecisionSink };

/** The bindings the verify path uses, from the Worker's env, and where its decisions are counted. */
export function verifyStores(env: Cloudflare.Env, waitUntil: WaitUntil, decisions: DecisionSink): VerifyStores {
  return {
    db: env.DB,
    kv: env.KEY_CACHE,
    keyObjects: env.KEY_OBJECT,
    consumerObjects: env.CONSUMER_OBJECT,
    waitUntil,
    decisions,
  };
}

export async function verifyKey(
  stores: VerifyStores,
  config: Config,
  input: VerifyInput,
  now: number,
): Promise<Decision> {
  const trace: Trace = { keyId: null, ownerId: null, readStorage: false };
  const decision = await decide(stores, config, input, now, trace, "spend");
  if (!decision.valid && trace.readStorage && CREDENTIAL_REFUSALS.has(decision.code)) {
    recordRefusal(config.refusalThrottle, input.ip, now);
  }
  stores.decisions.recordDecision(trace.keyId, decision.code, input.ip, input.cf, now); // monitoring: in-memory count
  return decision;
}

/**
 * What a request would be answered, decided by the same steps as `verifyKey` with nothing spent and nothing
 * learnt (the key check, POST /admin/v1/keys/check): no token is taken and no lease granted (the objects are
 * asked to `peek`), the decision is not counted (usage, rollups, the anomaly rules' networks), and the refusal
 * throttle is neither read nor fed: it is this isolate's view of a client, not a property of the key. Without
 * a route (`segments: null`), the route checks (7, 8) are skipped and the cost is 1: is the key itself good?
 * Answers the key's id and owner too, once the lookup has found it.
 */
export async function previewDecision(
  stores: KeyStores & LimitStores,
  config: Config,
  input: Omit<VerifyInput, "segments" | "cf"> & { segments: readonly string[] | null },
  now: number,
): Promise<{ decision: Decision; keyId: string | null; ownerId: string | null }> {
  const trace: Trace = { keyId: null, ownerId: null, readStorage: false };
  const decision = await decide(stores, config, input, now, trace, "peek");
  return { decision, keyId: trace.keyId, ownerId: trace.ownerId };
}

/** `spend`: the gateway's and the RPC's decisions; `peek`: the key check's (see `previewDecision`). */
type Mode = "spend" | "peek";

/**
 * What a decision cost and whom it was about: which key, once the lookup has found it (monitoring; refusals
 * do not carry it), and whether the lookup had to read KV or D1 (the refusal throttle).
 */
type Trace = { keyId: string | null; ownerId: string | null; readStorage: boolean };

type DecideInput = Omit<VerifyInput, "segments"> & { segments: readonly string[] | null };

async function decide(
  stores: KeyStores & LimitStores,
  config: Config,
  input: DecideInput,
  now: number,
  trace: Trace,
  mode: Mode,
): Promise<Decision> {
  // 1. Grammar and checksum: a mistyped or invented key costs no storage read.
  const parsed = parseKey(input.key, config.vendor);
  if (!parsed) return refuse("invalid_key");

  // 2. A client over the refusal throttle gets no KV or D1 read: only a key this isolate already knows is
  // decided for it. Most made-up keys are told apart by their hint alone, before any hashing.
  const throttled = mode === "peek" ? null : throttledUntil(config.refusalThrottle, input.ip, now);
  if (throttled !== null && !mayBeCached(parsed.hint))
    return { valid: false, code: "rate_limited", retry_at: throttled };

  // 3. Hash, then what this isolate knows: its copy of the key, or that the hash is unknown; else KV → D1.
  const key: PresentedKey = { hash: await sha256Hex(input.key), hint: parsed.hint };
  let live = knownKey(key.hash, now);
  if (live === undefined) {
    if (throttled !== null) return { valid: false, code: "rate_limited", retry_at: throttled };
    trace.readStorage = true;
    try {
      live = await loadKey(stores, key, now);
    } catch {
      log("error", "verify.lookup_failed", { degraded: "d1_unavailable", code: "authorizer_unavailable" });
      return refuse("authorizer_unavailable");
    }
  }
  if (!live) return refuse("invalid_key");
  trace.keyId = live.record.id; // monitoring
  trace.ownerId = live.record.owner_id; // the key check's consumer scoping

  // 4–8. The key's own settings, as cached. A refusal on a copy older than REFUSAL_RECHECK_MS is confirmed on
  // a fresh read first (bounded per key by that interval, so not counted), except for a throttled client,
  // which gets the refusal as cached: refusing stays safe, and its reads stay off storage.
  const rule = input.segments === null ? null : matchingRule(config.routePolicy, input.method, input.segments);
  let refusal = checkKey(live, rule, input, now);
  if (refusal && throttled === null && now - live.readAt > REFUSAL_RECHECK_MS) {
    const fresh = await loadKey(stores, key, now).catch(() => live); // storage down: refusing stays safe
    if (!fresh) return refuse("invalid_key");
    live = fresh;
    refusal = checkKey(live, rule, input, now);
  }
  if (refusal) return refusal;

  // 9. The key's and its consumer's objects: their live state overrides any cache, and the request spends
  // its route's cost from every limit of both, all or nothing.
  // checkKey refuses a request no rule matches; a key check without a route costs 1.
  const cost = input.segments === null ? 1 : rule!.cost;
  const admitOrPeek = mode === "spend" ? admit : peekAdmission;
  try {
    let admission = await admitOrPeek(stores, live.record, now, cost);
    if (!admission.ok && admission.code === "stale") {
      // The object holds a newer version than our copy: decide again on D1's.
      live = await reloadKey(stores, key, now);
      if (!live) return refuse("invalid_key");
      refusal = checkKey(live, rule, input, now);
      if (refusal) return refusal;
      admission = await admitOrPeek(stores, live.record, now, cost);
    }
    if (!admission.ok) {
      if (admission.code === "stale") return refuse("authorizer_unavailable"); // never admit on old state
      if (admission.code === "rate_limited" || admission.code === "quota_exceeded") {
        return { valid: false, code: admission.code, retry_at: admission.retryAt, limits: admission.limits };
      }
      return refuse(admission.code);
    }
    const { record } = live;
    return {
      valid: true,
      code: "valid",
      key_id: record.id,
      owner_id: record.owner_id,
      scopes: record.scopes,
      environment: record.environment,
      metadata: record.metadata,
      limits: admission.limits,
    };
  } catch {
    // Fail closed, and never retry: a lost answer may still have spent a token.
    log("error", "verify.key_object_failed", { degraded: "key_object_unavailable", code: "authorizer_unavailable" });
    return refuse("authorizer_unavailable");
  }
}

/** Checks 4–8 against a copy of the key: null if it may go on to the key's object. */
function checkKey(live: LiveKey, rule: PolicyRule | null, input: DecideInput, now: number): Refusal | null {
  const { record } = live;

  // 4. Status, then expiry and rotation grace.
  const statusCode = statusRefusal(effectiveStatus(record, now));
  if (statusCode) return refuse(statusCode);

  // 5. Client address against the key's allowlist. No address known means not allowed.
  if (live.ipRestricted && (input.ip === null || !ipInRanges(input.ip, live.ipRanges))) return refuse("ip_not_allowed");

  // 6. Browser origin, for publishable keys that name their origins.
  if (record.type === "publishable" && record.allowed_origins.length > 0) {
    if (input.origin === null || !record.allowed_origins.includes(input.origin)) return refuse("origin_not_allowed");
  }

  // 7. The key's own route restriction (a key check that names no route asks about the key alone).
  const segments = input.segments;
  if (segments === null) return null;
  if (live.routeRestricted && !live.routes.some((r) => routeMatches(r, input.method, segments))) {
    return refuse("route_not_allowed");
  }

  // 8. The scopes the route policy asks for; a route no rule covers is refused.
  if (rule === null) return { valid: false, code: "insufficient_scope", required_scopes: [] };
  const required = rule.scopes;
  if (required.length > 0 && !required.some((s) => record.scopes.includes(s))) {
    return { valid: false, code: "insufficient_scope", required_scopes: required };
  }
  return null;
}
