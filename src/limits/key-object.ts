/**
 * The key's Durable Object: one per lineage (a key and the keys rotated from it), named by `lineage_id`.
 * It is the strongly consistent point for the key's live state and its rate-limit counters. Every admitted
 * request is decided here, directly or through a short lease of tokens this object granted to an isolate.
 *
 * - State (status, expiry, grace end, limits, version) comes from D1, and every admin change is pushed here
 *   right after D1 is written. A request decided on an older version than this object holds is answered
 *   `stale`, so the isolate re-reads D1 before anything is admitted: stale caches cannot admit.
 * - Counters live in memory and are written to the object's storage with every grant, without waiting for
 *   the write to be confirmed (PERSIST_UNCONFIRMED). Eviction or a restart loses no count; a crash of the
 *   machine can lose the grants of the last moments (those whose write was not yet committed, normally a
 *   few milliseconds' worth), so right after such a crash a limit can be exceeded by at most that many.
 *   Key state pushed by admin changes is written confirmed: a revocation is never lost.
 * - A new key's state is pushed here when it is minted, so its first request needs no D1 read.
 * - Usage (`usage_count`, `last_used_at`) is not kept here: the isolates that admit requests count them with
 *   every other decision and flush many keys in one D1 statement (see monitoring/usage.ts), so 10,000 busy
 *   keys are not 10,000 D1 writes.
 */
import { DurableObject } from "cloudflare:workers";
import { effectiveStatus, mayWorkAgain, statusRefusal } from "../keys/key-record";
import { findKeyStateById, type KeyStateColumns } from "../keys/store";
import { clock } from "../util/clock";
import { log } from "../util/log";
import {
  giveBack,
  leaseCap,
  limitStates,
  take,
  type Counter,
  type Granted,
  type LimitRefused,
  type LimitState,
} from "./window";

/** A lease lives at most this long; it is also the longest an admin change waits for old leases to lapse. */
export const LEASE_MS = 1_000;
/**
 * How old this object's copy of a key may get before it re-reads D1, in the background. Not part of how
 * changes arrive (every change is announced, then pushed, and an announced change is read from D1 until
 * its push arrives): a safety net that bounds the damage of a bug there, kept long because with 10,000
 * keys in use every minute it would otherwise cost a D1 read per key per minute. The read time is kept in
 * storage, so an object that restarts does not re-read every key it holds.
 */
export const STATE_REFRESH_MS = 600_000;
/** Counter writes do not hold the answer until committed (see the header for what a crash can lose). */
const PERSIST_UNCONFIRMED = true;
/**
 * How long an announced admin change keeps this object reading D1 on every request for the key, unless the
 * change is pushed here sooner. Longer than any admin call's D1 write can take, so a change that reached D1
 * but whose push failed is read from D1 before the mark ends; the mark ends with such a read, leaving the
 * object in step with D1.
 */
const PENDING_CHANGE_MS = 60_000;

export type KeyState = KeyStateColumns;

export interface AcquireRequest {
  keyId: string;
  /** The version of the record the isolate checked the request against. */
  version: number;
  /** Tokens wanted in all, at least `cost`: this request's own, more to keep as a lease. */
  want: number;
  /** Tokens the request itself needs, all or nothing (its route's cost; default 1). */
  cost?: number;
  /** A refill ahead of need: every token granted is held for later requests, none is spent now. */
  ahead?: boolean;
}

export type KeyRefusal = "key_revoked" | "key_disabled" | "key_expired" | "invalid_key";

/**
 * What `peek` answers: the key's state as this object decides it (null: it would be admitted as far as
 * its state goes) and its limits as they stand, nothing taken. `invalid_key` carries no limits.
 */
export interface PeekResult {
  version: number;
  refusal: KeyRefusal | "stale" | null;
  limits: LimitState[];
}

export type AcquireResult = Granted | { ok: false; code: "stale" | KeyRefusal; version: number } | LimitRefused;

/** Announced admin changes to one key that have not been pushed yet, and until when to wait for them. */
interface PendingChange {
  count: number;
  until: number;
}

interface Persisted {
  counters: [string, Counter][];
  leaseHorizon: [string, number][];
}

export class KeyObject extends DurableObject<Cloudflare.Env> {
  readonly #keys = new Map<string, KeyState & { loadedAt: number }>();
  readonly #loading = new Map<string, Promise<(KeyState & { loadedAt: number }) | null>>();
  #counters = new Map<string, Counter>();
  /** keyId → when the last lease (of more than the requester's own token) granted for it expires. */
  #leaseHorizon = new Map<string, number>();
  /**
   * keyId → announced admin changes not yet pushed, and until when: while any is outstanding, every request
   * for the key is decided on a fresh read of D1. A count, not a flag, so that one change's push cannot end
   * the wait for another change announced after it (whose push may still fail).
   */
  readonly #pendingChange = new Map<string, PendingChange>();
  /** When this instance started: no lease granted before a restart outlives startedAt + LEASE_MS. */
  readonly #startedAt = clock.now();

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    // Everything in one read: an object wakes for most requests of a key used less than every few seconds,
    // and each storage statement is prepared anew for every wake.
    for (const [name, value] of ctx.storage.kv.list()) {
      if (name.startsWith("key:")) {
        const state = value as KeyState & { loadedAt?: number };
        this.#keys.set(state.id, { ...state, loadedAt: state.loadedAt ?? 0 });
      } else if (name.startsWith("pending:")) {
        this.#pendingChange.set(name.slice("pending:".length), value as PendingChange);
      } else if (name === "state") {
        const saved = value as Persisted;
        this.#counters = new Map(saved.counters);
        this.#leaseHorizon = new Map(saved.leaseHorizon);
      }
    }
  }

  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    let key = this.#keys.get(request.keyId);
    const pending = this.#pendingChange.get(request.keyId);
    if (pending !== undefined) {
      // An admin change may be in D1 without having reached this object: decide on D1's copy, never on ours
      // (if D1 cannot be read, this throws and the request is refused). No lease outlives the request. The
      // read is this request's own: one started before the change was written could return the old state.
      key = (await this.#readFromD1(request.keyId)) ?? undefined;
      if (clock.now() >= pending.until) this.#endPendingChange(request.keyId);
      if (!key) return { ok: false, code: "invalid_key", version: 0 };
      // No lease outlives the request, so a refill gets nothing: the isolate asks again with a request.
      if (request.ahead) return { ok: false, code: "stale", version: key.version };
      request = { ...request, want: request.cost ?? 1 };
    } else if (!key || key.version < request.version) {
      key = (await this.#load(request.keyId)) ?? undefined;
      if (!key) return { ok: false, code: "invalid_key", version: 0 };
    } else if (clock.now() - key.loadedAt > STATE_REFRESH_MS) {
      // Only a safety net for a change whose push never arrived: refresh without holding this request up.
      key.loadedAt = clock.now();
      this.ctx.waitUntil(
        this.#load(request.keyId).catch(() =>
          log("warn", "key_object.refresh_failed", { key_id: request.keyId, degraded: "d1_unavailable" }),
        ),
      );
    }
    // The isolate decided on an older record, or (replica lag) a newer one than D1 gave us: never admit.
    if (request.version !== key.version) return { ok: false, code: "stale", version: key.version };

    const now = clock.now();
    const refusal = statusRefusal(effectiveStatus(key, now));
    if (refusal) return { ok: false, code: refusal, version: key.version };

    const cost = request.cost ?? 1;
    const want = Math.max(cost, Math.min(request.want, leaseCap(key.rate_limits, LEASE_MS)));
    const result = take(key.rate_limits, this.#counters, now, want, cost);
    if ("exhausted" in result) {
      return { ok: false, code: result.code, version: key.version, retryAt: result.retryAt, limits: result.states };
    }
    const leaseExpiresAt = Math.min(
      now + LEASE_MS,
      key.expires_at,
      key.grace_until ?? Number.POSITIVE_INFINITY,
      ...result.states.map((s) => s.reset_at),
    );
    // What the isolate holds for later must lapse before a change to the key returns.
    if (result.granted > (request.ahead ? 0 : cost)) {
      this.#leaseHorizon.set(key.id, Math.max(this.#leaseHorizon.get(key.id) ?? 0, leaseExpiresAt));
    }
    this.#persist(now);
    return { ok: true, version: key.version, granted: result.granted, leaseExpiresAt, limits: result.states };
  }

  /**
   * The key's state and remaining limits, without spending a token, granting a lease or moving a lease
   * horizon (the key check and the admin limits view). A version, when given, is the one the caller decided
   * on: an older or newer one is answered `stale`, as `acquire` would. Reads D1 as `acquire` does when this
   * object has no copy or a change is pending, but never ends a pending change: that stays `acquire`'s.
   */
  async peek(request: { keyId: string; version?: number }): Promise<PeekResult> {
    let key = this.#keys.get(request.keyId);
    if (this.#pendingChange.has(request.keyId)) key = (await this.#readFromD1(request.keyId)) ?? undefined;
    else if (!key || (request.version !== undefined && key.version < request.version))
      key = (await this.#load(request.keyId)) ?? undefined;
    if (!key) return { version: 0, refusal: "invalid_key", limits: [] };
    const now = clock.now();
    const limits = limitStates(key.rate_limits, this.#counters, now);
    if (request.version !== undefined && request.version !== key.version)
      return { version: key.version, refusal: "stale", limits };
    return { version: key.version, refusal: statusRefusal(effectiveStatus(key, now)), limits };
  }

  /**
   * Clears this lineage's storage (counters, lease horizons, copies of its keys) once none of its keys can
   * work again: the scheduled job asks, having found in D1 that every key of the lineage is revoked or past
   * its expiry and grace end (src/monitoring/retention.ts). Refused (false) while this object knows better:
   * a copy of a key that can still work (a change newer than the job's read) or an announced change.
   * Nothing is lost that could matter: a lease never outlives its key's expiry or grace end, and a key made
   * to work again (a later expiry) is read afresh from D1, with fresh counters.
   */
  async clearLineage(): Promise<boolean> {
    const now = clock.now();
    if (this.#pendingChange.size > 0) return false;
    for (const key of this.#keys.values()) if (mayWorkAgain(key, now)) return false;
    await this.ctx.storage.deleteAll();
    this.#keys.clear();
    this.#counters = new Map();
    this.#leaseHorizon = new Map();
    return true;
  }

  /** Gives back tokens granted at `takenAt` for a request that the consumer's limits then refused. */
  async refund(keyId: string, tokens: number, takenAt: number): Promise<void> {
    const key = this.#keys.get(keyId);
    if (!key) return;
    giveBack(key.rate_limits, this.#counters, takenAt, clock.now(), tokens);
    this.#persist(clock.now());
  }

  /**
   * Announces an admin change that is about to be written to D1. Until the change is pushed here
   * (`applyChange`) or PENDING_CHANGE_MS pass, every request for the key is decided on a fresh read of D1, so
   * a change whose push fails after D1 was written is never undone by this object's old copy.
   */
  async prepareChange(keyId: string): Promise<void> {
    const pending = { count: (this.#pendingChange.get(keyId)?.count ?? 0) + 1, until: clock.now() + PENDING_CHANGE_MS };
    this.#pendingChange.set(keyId, pending);
    this.ctx.storage.kv.put(`pending:${keyId}`, pending);
  }

  #endPendingChange(keyId: string): void {
    this.#pendingChange.delete(keyId);
    this.ctx.storage.kv.delete(`pending:${keyId}`);
  }

  /**
   * Takes a change that was just written to D1. Returns when every lease granted under the old version will
   * have lapsed; the admin call waits until then, so that once it returns no request is decided by old state.
   */
  async applyChange(state: KeyState): Promise<{ leasesExpireAt: number }> {
    const current = this.#keys.get(state.id);
    if (!current || state.version >= current.version) {
      const fresh = { ...state, loadedAt: clock.now() };
      this.#keys.set(state.id, fresh);
      this.ctx.storage.kv.put(`key:${state.id}`, fresh);
    }
    // One announced change has arrived; the key stays on D1's copy while others are outstanding.
    const pending = this.#pendingChange.get(state.id);
    if (pending && pending.count > 1) {
      const fewer = { ...pending, count: pending.count - 1 };
      this.#pendingChange.set(state.id, fewer);
      this.ctx.storage.kv.put(`pending:${state.id}`, fewer);
    } else if (pending) {
      this.#endPendingChange(state.id);
    }
    // The horizon is written unconfirmed with the counters: after a crash it may be older than a lease
    // granted just before, but no such lease outlives this instance's start plus LEASE_MS.
    return { leasesExpireAt: Math.max(this.#leaseHorizon.get(state.id) ?? 0, this.#startedAt + LEASE_MS) };
  }

  /** The key's state from D1, one read shared by the requests that need it at the same time. */
  async #load(keyId: string) {
    let pending = this.#loading.get(keyId);
    if (!pending) {
      pending = this.#readFromD1(keyId).finally(() => this.#loading.delete(keyId));
      this.#loading.set(keyId, pending);
    }
    return pending;
  }

  /** Reads the key's state from D1 and keeps it, unless a pushed change is already newer. */
  async #readFromD1(keyId: string) {
    const state = await findKeyStateById(this.env.DB, keyId);
    if (!state) return null;
    const current = this.#keys.get(keyId);
    if (current && current.version > state.version) return current; // a pushed change is newer
    const fresh = { ...state, loadedAt: clock.now() };
    this.#keys.set(keyId, fresh);
    this.ctx.storage.kv.put(`key:${keyId}`, fresh);
    return fresh;
  }

  #persist(now: number): void {
    for (const [id, until] of this.#leaseHorizon) if (until < now) this.#leaseHorizon.delete(id);
    const state: Persisted = {
      counters: [...this.#counters],
      leaseHorizon: [...this.#leaseHorizon],
    };
    // Confirming each counter write held every answer until its commit, several times the cost of the grant.
    this.ctx.storage.put("state", state, { allowUnconfirmed: PERSIST_UNCONFIRMED }).catch((error: unknown) => {
      log("error", "key_object.persist_failed", { error: (error as Error).name });
    });
  }
}
