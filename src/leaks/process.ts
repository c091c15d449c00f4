/**
 * What happens to a reported key, whatever reported it (GitHub, gitleaks, truffleHog, the scanner, the
 * gateway), around its revocation: find the key by hash, record one leak event per report fingerprint, decide
 * which keys the policy revokes, and once they are revoked mark the events completed and tell the owners. The
 * revocation itself is the "ingest leak reports" operation's (src/operations/ingest-leak-reports.ts): it
 * goes through the key-change protocol like the admin revocation, which sits above this layer. A replayed
 * report finds its event and changes nothing; a revocation that failed part-way (its event says `revoked`
 * with no `revoked_at`) is completed by the replay.
 *
 * A batch costs D1 a fixed number of set-based statements (keys by hash, events by fingerprint, the new
 * events, the completions) plus three per key it revokes, however many reports match nothing.
 */
import { findKeysByHashes } from "../keys/store";
import type { KeyRecord } from "../keys/key-record";
import { ProblemError } from "../http/problem";
import type { WaitUntil } from "../http/context";
import { notifyOwner } from "../notify/webhook";
import { clock } from "../util/clock";
import { log } from "../util/log";
import {
  changeLeakOutcome,
  findLeakEvents,
  insertLeakEvents,
  markLeaksRevoked,
  type LeakOutcome,
  type LeakSource,
  type NewLeakEvent,
} from "./events";

/** The revocation reason stored on a key revoked because it was found exposed. */
export const LEAKED_REASON = "leaked";
/** Keys revoked at once (each is a few calls to its object and to D1). */
export const LEAK_CONCURRENCY = 16;

export interface LeakReport {
  /** SHA-256 hex of the reported key, when it parsed with a valid checksum; null otherwise (never a match). */
  keyHash: string | null;
  /** Stable id of this report: a replay carries the same one. */
  fingerprint: string;
  /** Where the key was found, already redacted (see safeText). */
  location: string | null;
}

export interface LeakContext {
  env: Cloudflare.Env;
  waitUntil: WaitUntil;
  source: LeakSource;
  requestId: string;
  /** Revoke a live key, or only record the event and tell the owner. */
  revoke: boolean;
  /** When the report reached the authorizer (epoch ms). */
  reportedAt: number;
  /** The owner notification's type: "key.leaked", or "key.exposed" for the gateway. */
  notifyType?: string;
}

/** Who reports, and what to do with a live key: what each way in (webhook, admin ingest, gateway) decides. */
export type LeakPolicy = Pick<LeakContext, "source" | "revoke" | "notifyType">;

export interface LeakResult {
  fingerprint: string;
  outcome: LeakOutcome;
  key_id: string | null;
  /** True when this report was already recorded: nothing was done for it this time. */
  duplicate: boolean;
}

/** A revocation this batch makes: the key, and the reports (by index) it completes. */
export interface Revocation {
  record: KeyRecord;
  /** Reports whose new event says `revoked`: they become `already_revoked` if someone else revoked first. */
  fresh: number[];
  /** Reports whose event was already `revoked` (a resume) or was upgraded from `recorded`. */
  resumed: number[];
}

/** What a batch does, decided before anything is written. */
export interface LeakPlan {
  /** The reported keys, by hash. */
  keys: Map<string, KeyRecord>;
  /** One per report; left empty for a report repeating an earlier report's fingerprint (filled in at the end). */
  results: LeakResult[];
  /** fingerprint → the first report in the batch carrying it. */
  firstOf: Map<string, number>;
  /** The events to insert, with the report each is for. */
  fresh: { index: number; event: NewLeakEvent }[];
  /** keyId → the revocation of that key. */
  revocations: Map<string, Revocation>;
}

/**
 * Finds the reported keys, decides every report and records the new events (telling the owners of keys only
 * recorded). What is left is the plan's revocations, then `settleRevocation` for each and `finishLeakReports`.
 */
export async function planLeakReports(ctx: LeakContext, reports: readonly LeakReport[]): Promise<LeakPlan> {
  const keys = await findKeysByHashes(
    ctx.env.DB,
    reports.flatMap((r) => (r.keyHash ? [r.keyHash] : [])),
  );
  const plan = await decide(ctx, reports, keys);
  await recordEvents(ctx, reports, plan);
  return plan;
}

/**
 * Decides every report in order against the events already recorded and this batch's view of each key, so a
 * batch naming a key twice revokes and notifies once. Writes only to upgrade a `recorded` event (rare).
 */
async function decide(
  ctx: LeakContext,
  reports: readonly LeakReport[],
  keys: Map<string, KeyRecord>,
): Promise<LeakPlan> {
  const db = ctx.env.DB;
  const existing = await findLeakEvents(db, [...new Set(reports.map((r) => r.fingerprint))]);
  const plan: LeakPlan = {
    keys,
    results: new Array(reports.length),
    firstOf: new Map(),
    fresh: [],
    revocations: new Map(),
  };
  const statusOf = new Map<string, KeyRecord["status"]>();
  const revocationOf = (record: KeyRecord) => {
    statusOf.set(record.id, "revoked");
    const r = plan.revocations.get(record.id) ?? { record, fresh: [], resumed: [] };
    plan.revocations.set(record.id, r);
    return r;
  };
  for (const [i, report] of reports.entries()) {
    const { fingerprint } = report;
    if (plan.firstOf.has(fingerprint)) continue;
    plan.firstOf.set(fingerprint, i);
    const record = (report.keyHash && keys.get(report.keyHash)) || null;
    const keyId = record?.id ?? null;
    const status = record ? (statusOf.get(record.id) ?? record.status) : null;
    const seen = existing.get(fingerprint);
    if (seen) {
      // Seen before. Two cases still need work: a revocation left half-done (complete it), and a report
      // recorded without revocation that now comes with revocation asked (upgrade it; one caller wins).
      const resume = record !== null && seen.outcome === "revoked" && seen.revoked_at === null;
      const upgrade =
        !resume &&
        record !== null &&
        ctx.revoke &&
        seen.outcome === "recorded" &&
        status !== "revoked" &&
        (await changeLeakOutcome(db, fingerprint, "recorded", "revoked"));
      if (record && (resume || upgrade)) {
        revocationOf(record).resumed.push(i);
        plan.results[i] = { fingerprint, outcome: "revoked", key_id: keyId, duplicate: false };
      } else {
        plan.results[i] = { fingerprint, outcome: seen.outcome, key_id: seen.key_id, duplicate: true };
      }
      continue;
    }
    const outcome: LeakOutcome = !record
      ? "no_match"
      : status === "revoked"
        ? "already_revoked"
        : ctx.revoke
          ? "revoked"
          : "recorded";
    if (record && outcome === "revoked") revocationOf(record).fresh.push(i);
    plan.results[i] = { fingerprint, outcome, key_id: keyId, duplicate: false };
    plan.fresh.push({
      index: i,
      event: { keyId, source: ctx.source, fingerprint, location: report.location, reportedAt: ctx.reportedAt, outcome },
    });
  }
  return plan;
}

/** Inserts the new events in one statement and tells the owners of keys recorded (not revoked) by policy. */
async function recordEvents(ctx: LeakContext, reports: readonly LeakReport[], plan: LeakPlan) {
  const inserted = await insertLeakEvents(
    ctx.env.DB,
    plan.fresh.map((f) => f.event),
  );
  for (const { index, event } of plan.fresh) {
    if (!inserted.has(event.fingerprint)) {
      plan.results[index]!.duplicate = true; // a concurrent replay recorded it first: that one acts on it
    } else if (event.keyId && event.outcome === "recorded") {
      notify(ctx, plan.keys.get(reports[index]!.keyHash!)!, reports[index]!, false);
    }
  }
  for (const r of plan.revocations.values()) r.fresh = r.fresh.filter((i) => inserted.has(reports[i]!.fingerprint));
}

/**
 * Settles the reports of one revocation once its key is revoked (`changed`: whether this batch's write
 * changed D1): answers the reports it completes. A report whose key someone else revoked between our read
 * and our write becomes `already_revoked`: theirs is the revocation.
 */
export async function settleRevocation(
  ctx: LeakContext,
  reports: readonly LeakReport[],
  plan: LeakPlan,
  revocation: Revocation,
  changed: boolean,
): Promise<number[]> {
  const completed: number[] = [];
  for (const i of revocation.fresh) {
    if (changed) completed.push(i);
    else if (await changeLeakOutcome(ctx.env.DB, reports[i]!.fingerprint, "revoked", "already_revoked"))
      plan.results[i]!.outcome = "already_revoked";
  }
  completed.push(...revocation.resumed);
  return completed;
}

/**
 * Once the revocations are made and their old leases lapsed: marks the completed events in one statement and
 * tells the owners, then answers one result per report, in order. Throws if `failures` revocations could not
 * be completed; the caller answers 503 and the replay completes them.
 */
export async function finishLeakReports(
  ctx: LeakContext,
  reports: readonly LeakReport[],
  plan: LeakPlan,
  completed: readonly number[],
  failures: number,
): Promise<LeakResult[]> {
  const marked = await markLeaksRevoked(
    ctx.env.DB,
    completed.map((i) => reports[i]!.fingerprint),
    clock.now(),
  );
  for (const i of completed) {
    // Only the delivery that completed the revocation tells the owner; an overlapping retry stays quiet.
    if (marked.has(reports[i]!.fingerprint)) notify(ctx, plan.keys.get(reports[i]!.keyHash!)!, reports[i]!, true);
  }
  if (failures > 0) {
    // Safe to retry: the events that say `revoked` without `revoked_at` are completed by the replay.
    log("error", "leaks.revoke_incomplete", {
      request_id: ctx.requestId,
      degraded: "propagation_incomplete",
      counts: { failed: failures },
    });
    throw new ProblemError("authorizer_unavailable", { retryAfterSeconds: 1 });
  }
  const { results, firstOf } = plan;
  for (const [i, report] of reports.entries()) {
    if (!results[i]) results[i] = { ...results[firstOf.get(report.fingerprint)!]!, duplicate: true };
  }
  return results;
}

function notify(ctx: LeakContext, record: KeyRecord, report: LeakReport, revoked: boolean) {
  notifyOwner(ctx.env, ctx.waitUntil, {
    type: ctx.notifyType ?? "key.leaked",
    owner_id: record.owner_id,
    key_id: record.id,
    data: { source: ctx.source, location: report.location, revoked, hint: record.hint, reported_at: ctx.reportedAt },
  });
}

/** Maps with at most `limit` calls in flight; results in input order. */
export async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
