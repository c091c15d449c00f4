/**
 * One isolate's leases from one kind of Durable Object (key objects or consumer objects), keyed by the id
 * the object decides for (a key id, a consumer id). A lease is tokens an object granted this isolate to spend
 * locally until they run out or lapse (at most LEASE_MS). The object never grants more than every limit has
 * left, so limits are never exceeded; tokens left in a lapsed lease are lost, which can only under-admit,
 * by at most two grants (a lease and its refill) per isolate per LEASE_MS.
 *
 * Refill ahead: once a busy lease is half spent or half through its time, one request starts a call for the
 * next lease in the background (waitUntil) and goes on with its own tokens; the new grant lands beside the old
 * one, so later requests find tokens instead of waiting out the object's round trip. No request awaits
 * another's I/O (workerd forbids it). A refill is a lease like any other: the object counts it, and a change
 * waits it out. Each grant keeps its own expiry, so tokens of one window are never spent in the next.
 *
 * One call at a time: while a call for an id is out from this isolate, another request that finds no tokens
 * asks for its own only, so a burst does not pile up full leases it cannot use.
 *
 * Denials: once an id is refused for its limits, the isolate refuses it until the window resets without
 * asking the object again, so a flood from one key does not pile onto its object.
 */
import type { WaitUntil } from "../http/context";
import { clock } from "../util/clock";
import { log } from "../util/log";
import { LEASE_MS } from "./key-object";
import type { Granted, LimitRefusal, LimitRefused, LimitState } from "./window";

/** The most tokens an isolate asks for at once; the object caps it further by the limits. */
const MAX_LEASE_TOKENS = 1_000;
/** Leases and denials kept per isolate and book; the oldest are dropped first (a dropped lease only under-admits). */
const MAX_TRACKED = 10_000;

/** What an object answers to a request for tokens (the key object's and the consumer object's alike). */
export type Answer =
  | (Granted & { keysRevokedBefore?: number | null })
  | LimitRefused
  | { ok: false; code: string; version: number };

/** Asks the object for `want` tokens in all, of which the request needs `cost` (none when `ahead`). */
export type AskObject = (want: number, cost: number, ahead: boolean) => Promise<Answer>;

interface Grant {
  tokens: number;
  expiresAt: number;
}

export interface Lease {
  version: number;
  /** Oldest first; spent in that order. Usually at most two: the current grant and a refill. */
  grants: Grant[];
  /** The size of the latest grant that left tokens to hold, including a requester's own tokens. */
  granted: number;
  /** Tokens spent from this lease since `since`: the observed rate. */
  spent: number;
  since: number;
  /** The object's view right after the latest grant (its tokens already taken). */
  limits: LimitState[];
  /** From a consumer object: keys created at or before this are refused (revoke-keys). */
  keysRevokedBefore: number | null;
  /** No refill before this time (one is out, or the last one was refused for the limits). */
  noRefillBefore: number;
}

export interface Denial {
  version: number;
  /** The cost that was refused: a cheaper request may still fit. */
  cost: number;
  code: LimitRefusal;
  until: number | null;
  limits: LimitState[];
}

/** What the lease holds unspent now. */
export function heldTokens(lease: Lease, now: number): number {
  let held = 0;
  for (const grant of lease.grants) if (now < grant.expiresAt) held += grant.tokens;
  return held;
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  if (map.size >= MAX_TRACKED) map.delete(map.keys().next().value!);
  map.set(key, value);
}

export class LeaseBook {
  readonly #leases = new Map<string, Lease>();
  readonly #denials = new Map<string, Denial>();
  /** id → calls to the object this isolate has out (requests' own and refills). */
  readonly #callsOut = new Map<string, number>();

  /**
   * @param versioned whether leases are tied to the version the isolate decided on (keys: yes; consumers: no,
   * since the isolate learns a consumer's state only from its object, and every change waits leases out).
   */
  constructor(private readonly versioned: boolean) {}

  #matches(held: { version: number }, version: number): boolean {
    return !this.versioned || held.version === version;
  }

  /** The standing refusal of `id` for its limits that applies to a request of this cost, if there is one. */
  denied(id: string, version: number, cost: number, now: number): Denial | null {
    const denial = this.#denials.get(id);
    if (!denial || !this.#matches(denial, version) || cost < denial.cost) return null;
    return denial.until === null || now < denial.until ? denial : null;
  }

  /** The lease for `id`, if this isolate holds one that matches `version`. */
  current(id: string, version: number): Lease | null {
    const lease = this.#leases.get(id);
    return lease && this.#matches(lease, version) ? lease : null;
  }

  /** Spends `cost` tokens from live grants, all or nothing; null if they do not hold that many. */
  spend(id: string, version: number, cost: number, now: number): Lease | null {
    const lease = this.#leases.get(id);
    if (!lease || !this.#matches(lease, version)) return null;
    lease.grants = lease.grants.filter((g) => now < g.expiresAt && g.tokens > 0);
    if (heldTokens(lease, now) < cost) return null;
    let left = cost;
    for (const grant of lease.grants) {
      const used = Math.min(grant.tokens, left);
      grant.tokens -= used;
      left -= used;
    }
    lease.spent += cost;
    return lease;
  }

  /** Puts back tokens spent locally for a request that was then refused elsewhere. */
  unspend(lease: Lease, cost: number, now: number): void {
    const grant = lease.grants.find((g) => now < g.expiresAt);
    if (grant) grant.tokens += cost;
    lease.spent -= cost;
  }

  /** How many tokens to ask for: the request's own only while another call is out, else a lease's worth. */
  wanted(id: string, version: number, cost: number, now: number): number {
    if (this.#callsOut.has(id)) return cost;
    const lease = this.#leases.get(id);
    if (!lease || !this.#matches(lease, version)) return cost;
    return Math.max(cost, this.#rateWant(lease, now, 0));
  }

  /**
   * A lease period's worth at the rate seen over about the last one to two lease periods, with a tenth
   * more for jitter, less what is still held: a grant that lapses with tokens left loses them (they stay
   * counted by the object), so asking for more than the rate needs only spends the limit faster.
   */
  #rateWant(lease: Lease, now: number, held: number): number {
    const elapsed = Math.max(now - lease.since, 1);
    const perLease = Math.ceil((lease.spent * LEASE_MS * 1.1) / elapsed);
    return Math.min(MAX_LEASE_TOKENS, Math.max(1, perLease - held));
  }

  /** Calls the object, counted as out for `id` while it runs. */
  async call(id: string, ask: AskObject, want: number, cost: number, ahead: boolean): Promise<Answer> {
    this.#callsOut.set(id, (this.#callsOut.get(id) ?? 0) + 1);
    try {
      return await ask(want, cost, ahead);
    } finally {
      const left = (this.#callsOut.get(id) ?? 1) - 1;
      if (left > 0) this.#callsOut.set(id, left);
      else this.#callsOut.delete(id);
    }
  }

  /**
   * Keeps what a grant leaves for later (`held`: all of a refill, a request's grant less its own tokens), and
   * counts `spent` of it as used now. An answer older than the lease's version is dropped: its grants could
   * only serve requests decided on the older record.
   */
  keep(id: string, answer: Extract<Answer, { ok: true }>, held: number, spent: number, now: number): Lease {
    const lease = this.#leases.get(id);
    if (lease && lease.version >= answer.version) {
      if (lease.version > answer.version) return lease;
      lease.grants = lease.grants.filter((g) => now < g.expiresAt && g.tokens > 0);
      // A request's own tokens while another call was out are not a lease: they leave the lease's size alone.
      if (held > 0) {
        lease.grants.push({ tokens: held, expiresAt: answer.leaseExpiresAt });
        lease.granted = answer.granted;
      }
      lease.limits = answer.limits;
      lease.keysRevokedBefore = answer.keysRevokedBefore ?? null;
      lease.spent += spent;
      if (now - lease.since > 2 * LEASE_MS) {
        lease.spent = Math.round((lease.spent * LEASE_MS) / (now - lease.since));
        lease.since = now - LEASE_MS;
      }
      return lease;
    }
    const fresh: Lease = {
      version: answer.version,
      grants: held > 0 ? [{ tokens: held, expiresAt: answer.leaseExpiresAt }] : [],
      granted: answer.granted,
      spent,
      since: now,
      limits: answer.limits,
      keysRevokedBefore: answer.keysRevokedBefore ?? null,
      noRefillBefore: 0,
    };
    remember(this.#leases, id, fresh);
    return fresh;
  }

  /** Remembers a refusal for the limits until `until` (forever for a request that can never fit: its window). */
  deny(id: string, answer: Extract<Answer, { code: LimitRefusal }>, cost: number): void {
    remember(this.#denials, id, {
      version: answer.version,
      cost,
      code: answer.code,
      until: answer.retryAt,
      limits: answer.limits,
    });
  }

  /** Starts a refill in the background if the lease is due one (see the header). */
  refillIfDue(id: string, lease: Lease, askFor: () => AskObject, waitUntil: WaitUntil, now: number): void {
    if (now < lease.noRefillBefore || lease.granted < 2 || this.#callsOut.has(id)) return;
    const last = lease.grants[lease.grants.length - 1];
    const due = !last || heldTokens(lease, now) * 2 <= lease.granted || last.expiresAt - now <= LEASE_MS / 2;
    if (!due) return;
    lease.noRefillBefore = Number.POSITIVE_INFINITY; // one refill at a time; reset when it lands
    const refill = this.call(id, askFor(), this.#rateWant(lease, now, heldTokens(lease, now)), 1, true).then(
      (answer) => {
        if (answer.ok) this.keep(id, answer, answer.granted, 0, clock.now()).noRefillBefore = 0;
        else if ("retryAt" in answer) lease.noRefillBefore = answer.retryAt ?? Number.POSITIVE_INFINITY;
        else this.#leases.delete(id); // changed or refused: the next request asks for itself
      },
      (error: unknown) => {
        lease.noRefillBefore = 0;
        log("warn", "limits.refill_failed", { error: (error as Error).name });
      },
    );
    waitUntil(refill);
  }

  forget(id: string): void {
    this.#leases.delete(id);
    this.#denials.delete(id);
  }

  clear(): void {
    this.#leases.clear();
    this.#denials.clear();
  }
}
