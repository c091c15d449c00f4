/**
 * The consumer's Durable Object: one per consumer, named by its id (the keys' `owner_id`). It is the strongly
 * consistent point for what is shared by all the consumer's keys: its status, its shared limits, and the
 * time before which every key it had is revoked (revoke-keys). Every admitted request of any of its keys is
 * decided here too, directly or through a lease, beside the key's own object (src/limits/key-object.ts);
 * docs/storage.md says why two objects and not one per consumer.
 *
 * It follows the key object's rules: state comes from D1 and every change is announced before D1 is written
 * and pushed after; while a change is announced and not pushed every request is decided on a fresh D1 read
 * without a lease; a change waits out every lease granted before it; counters are persisted unconfirmed.
 * A consumer without a row (never the case after migration 0004, which backfills one for every owner) is
 * treated as active without shared limits, as keys were before consumers existed.
 */
import { DurableObject } from "cloudflare:workers";
import { clock } from "../util/clock";
import { log } from "../util/log";
import { LEASE_MS } from "../limits/key-object";
import {
  giveBack,
  leaseCap,
  limitStates,
  take,
  type Counter,
  type Granted,
  type LimitRefused,
  type LimitState,
} from "../limits/window";
import { findConsumerState, type ConsumerState } from "./consumer-state";
import { runRevokeKeys } from "./revoke-keys";

/** How long an announced change keeps the object on D1's copy unless it is pushed sooner (as for keys). */
const PENDING_CHANGE_MS = 60_000;
/** The safety-net refresh of the object's copy (as for keys: changes are pushed, this only bounds a bug). */
const STATE_REFRESH_MS = 600_000;

export interface ConsumerAcquireRequest {
  consumerId: string;
  /** When the requesting key was created: keys created at or before a revoke-keys are refused. */
  keyCreatedAt: number;
  /** Tokens wanted in all, at least `cost`: the request's own and more to keep as a lease. */
  want: number;
  /** Tokens the request itself needs, all or nothing (the route's cost). */
  cost: number;
  /** A refill ahead of need: every token is held for later requests (see src/limits/leases.ts). */
  ahead?: boolean;
}

export type ConsumerRefusal = "consumer_disabled" | "key_revoked";

export type ConsumerAcquireResult =
  | (Granted & { keysRevokedBefore: number | null })
  | { ok: false; code: "stale" | ConsumerRefusal; version: number }
  | LimitRefused;

/** What `peek` answers: the refusal the consumer's state makes (null: none), and its limits as they stand. */
export interface ConsumerPeekResult {
  version: number;
  refusal: ConsumerRefusal | null;
  limits: LimitState[];
}

interface PendingChange {
  count: number;
  until: number;
}

/**
 * The refusal the consumer's state makes: a disabled (or deleted) consumer refuses every key; revoke-keys
 * refuses every key created up to its time. Without `keyCreatedAt` (the admin view), only the first.
 */
function consumerRefusal(state: ConsumerState, keyCreatedAt: number | undefined): ConsumerRefusal | null {
  if (state.status !== "active") return "consumer_disabled";
  if (keyCreatedAt !== undefined && state.keys_revoked_before !== null && keyCreatedAt <= state.keys_revoked_before)
    return "key_revoked";
  return null;
}

const UNKNOWN = (id: string): ConsumerState => ({
  id,
  status: "active",
  rate_limits: [],
  keys_revoked_before: null,
  version: 0,
});

export class ConsumerObject extends DurableObject<Cloudflare.Env> {
  #state: (ConsumerState & { loadedAt: number }) | undefined;
  #loading: Promise<ConsumerState & { loadedAt: number }> | undefined;
  #counters = new Map<string, Counter>();
  #leaseHorizon = 0;
  #pending: PendingChange | undefined;
  readonly #startedAt = clock.now();

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    for (const [name, value] of ctx.storage.kv.list()) {
      if (name === "consumer") this.#state = value as ConsumerState & { loadedAt: number };
      else if (name === "pending") this.#pending = value as PendingChange;
      else if (name === "revoke-keys") continue;
      else if (name === "counters") {
        const saved = value as { counters: [string, Counter][]; leaseHorizon: number };
        this.#counters = new Map(saved.counters);
        this.#leaseHorizon = saved.leaseHorizon;
      }
    }
  }

  async acquire(request: ConsumerAcquireRequest): Promise<ConsumerAcquireResult> {
    let state: ConsumerState;
    let want = request.want;
    if (this.#pending) {
      // A change may be in D1 without having reached this object: decide on D1's copy, without a lease.
      state = await this.#readFromD1(request.consumerId);
      if (clock.now() >= this.#pending.until) this.#endPending();
      if (request.ahead) return { ok: false, code: "stale", version: state.version };
      want = request.cost;
    } else if (!this.#state) {
      state = await this.#load(request.consumerId);
    } else {
      state = this.#state;
      if (clock.now() - this.#state.loadedAt > STATE_REFRESH_MS) {
        this.#state.loadedAt = clock.now();
        this.ctx.waitUntil(
          this.#load(request.consumerId).catch(() =>
            log("warn", "consumer_object.refresh_failed", {
              consumer_id: request.consumerId,
              degraded: "d1_unavailable",
            }),
          ),
        );
      }
    }
    const refusal = consumerRefusal(state, request.keyCreatedAt);
    if (refusal) return { ok: false, code: refusal, version: state.version };

    const now = clock.now();
    const cap = Math.max(request.cost, Math.min(want, leaseCap(state.rate_limits, LEASE_MS)));
    const result = take(state.rate_limits, this.#counters, now, cap, request.cost);
    if ("exhausted" in result) {
      return { ok: false, code: result.code, version: state.version, retryAt: result.retryAt, limits: result.states };
    }
    const leaseExpiresAt = Math.min(now + LEASE_MS, ...result.states.map((s) => s.reset_at));
    if (result.granted > (request.ahead ? 0 : request.cost)) {
      this.#leaseHorizon = Math.max(this.#leaseHorizon, leaseExpiresAt);
    }
    this.#persist();
    return {
      ok: true,
      version: state.version,
      granted: result.granted,
      leaseExpiresAt,
      limits: result.states,
      keysRevokedBefore: state.keys_revoked_before,
    };
  }

  /**
   * The consumer's state and its shared limits as they stand, nothing taken, no lease granted and no lease
   * horizon moved (the key check and the admin limits view; see the key object's `peek`). With
   * `keyCreatedAt`, a key the consumer's revoke-keys covers is answered `key_revoked`.
   */
  async peek(request: { consumerId: string; keyCreatedAt?: number }): Promise<ConsumerPeekResult> {
    const state = this.#pending
      ? await this.#readFromD1(request.consumerId)
      : (this.#state ?? (await this.#load(request.consumerId)));
    const limits = limitStates(state.rate_limits, this.#counters, clock.now());
    return { version: state.version, refusal: consumerRefusal(state, request.keyCreatedAt), limits };
  }

  /** Gives back tokens granted at `takenAt` for a request that another limiter then refused. */
  async refund(tokens: number, takenAt: number): Promise<void> {
    if (!this.#state) return;
    giveBack(this.#state.rate_limits, this.#counters, takenAt, clock.now(), tokens);
    this.#persist();
  }

  /** Starts (or restarts) revoking the consumer's keys one batch after another, from this object's alarm. */
  async startRevokeKeys(consumerId: string): Promise<void> {
    this.ctx.storage.kv.put("revoke-keys", consumerId);
    await this.ctx.storage.setAlarm(Date.now());
  }

  /** One run of revoke-keys; another is set while keys remain. A run that throws is retried by the runtime. */
  override async alarm(): Promise<void> {
    const consumerId = this.ctx.storage.kv.get<string>("revoke-keys");
    if (consumerId === undefined) return;
    const remaining = await runRevokeKeys(this.env, consumerId);
    if (remaining > 0) await this.ctx.storage.setAlarm(Date.now());
    else this.ctx.storage.kv.delete("revoke-keys");
  }

  /** Announces a change about to be written to D1 (see the key object's `prepareChange`). */
  async prepareChange(): Promise<void> {
    this.#pending = { count: (this.#pending?.count ?? 0) + 1, until: clock.now() + PENDING_CHANGE_MS };
    this.ctx.storage.kv.put("pending", this.#pending);
  }

  /** Takes a change just written to D1; returns when every lease granted before it will have lapsed. */
  async applyChange(state: ConsumerState): Promise<{ leasesExpireAt: number }> {
    if (!this.#state || state.version >= this.#state.version) this.#keep(state);
    if (this.#pending && this.#pending.count > 1) {
      this.#pending = { ...this.#pending, count: this.#pending.count - 1 };
      this.ctx.storage.kv.put("pending", this.#pending);
    } else if (this.#pending) {
      this.#endPending();
    }
    return { leasesExpireAt: Math.max(this.#leaseHorizon, this.#startedAt + LEASE_MS) };
  }

  #endPending(): void {
    this.#pending = undefined;
    this.ctx.storage.kv.delete("pending");
  }

  #keep(state: ConsumerState): ConsumerState & { loadedAt: number } {
    this.#state = { ...state, loadedAt: clock.now() };
    this.ctx.storage.kv.put("consumer", this.#state);
    return this.#state;
  }

  async #load(consumerId: string) {
    this.#loading ??= this.#readFromD1(consumerId).finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #readFromD1(consumerId: string) {
    const state = (await findConsumerState(this.env.DB, consumerId)) ?? UNKNOWN(consumerId);
    if (this.#state && this.#state.version > state.version) return this.#state; // a pushed change is newer
    return this.#keep(state);
  }

  #persist(): void {
    if (this.#leaseHorizon < clock.now()) this.#leaseHorizon = 0;
    const saved = { counters: [...this.#counters], leaseHorizon: this.#leaseHorizon };
    this.ctx.storage.put("counters", saved, { allowUnconfirmed: true }).catch((error: unknown) => {
      log("error", "consumer_object.persist_failed", { error: (error as Error).name });
    });
  }
}
