/**
 * What happens to a reported key, whatever reported it (GitHub, gitleaks, truffleHog, the scanner, the
 * gateway): find the key by hash, record one leak event per report fingerprint, revoke the key when the
 * policy says so (D1 with its audit row, then the key's object, KV and caches — the admin revocation path),
 * and tell the owner. A replayed report finds its event and changes nothing; a revocation that failed
 * part-way (its event says `revoked` with no `revoked_at`) is completed by the replay.
 */
import { findKeyByHash, findKeyById, revokeKey } from "../keys/store";
import type { KeyRecord } from "../keys/record";
import { ProblemError } from "../http/problem";
import { propagateChange } from "../limits/propagate";
import { notifyOwner, type WaitUntil } from "../notify/webhook";
import { log } from "../util/log";
import {
  changeLeakOutcome,
  findLeakEvent,
  insertLeakEvent,
  markLeakRevoked,
  type LeakOutcome,
  type LeakSource,
} from "./events";

/** The revocation reason stored on a key revoked because it was found exposed. */
export const LEAKED_REASON = "leaked";
/** Reports processed at once; reports of the same key always run one after another. */
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
  /** Recorded as the audit actor of a revocation, e.g. "github-secret-scanning" or the admin credential. */
  actor: string;
  requestId: string;
  /** Revoke a live key, or only record the event and tell the owner. */
  revoke: boolean;
  /** When the report reached the authorizer (epoch ms). */
  reportedAt: number;
  /** The owner notification's type: "key.leaked", or "key.exposed" for the gateway. */
  notifyType?: string;
}

export interface LeakResult {
  fingerprint: string;
  outcome: LeakOutcome;
  key_id: string | null;
  /** True when this report was already recorded: nothing was done for it this time. */
  duplicate: boolean;
}

type Found = { record: KeyRecord; keyHash: string } | null;

/**
 * Processes a batch of reports and answers one result per report, in order. Throws if a revocation could
 * not be completed; the caller answers 503 and the replay completes it.
 */
export async function processLeakReports(ctx: LeakContext, reports: readonly LeakReport[]): Promise<LeakResult[]> {
  const found: Found[] = await mapPool(reports, LEAK_CONCURRENCY, async ({ keyHash }) => {
    const record = keyHash ? await findKeyByHash(ctx.env.DB, keyHash) : null;
    return record && keyHash ? { record, keyHash } : null;
  });
  // Reports of one key run in sequence, so a batch naming a key twice revokes and notifies once.
  const groups = new Map<string, number[]>();
  reports.forEach((_, i) => {
    const group = found[i]?.record.id ?? `#${i}`;
    groups.set(group, [...(groups.get(group) ?? []), i]);
  });
  const results: LeakResult[] = new Array(reports.length);
  const failures: unknown[] = [];
  await mapPool([...groups.values()], LEAK_CONCURRENCY, async (indices) => {
    let key: Found = found[indices[0]!] ?? null;
    for (const i of indices) {
      try {
        results[i] = await processOne(ctx, reports[i]!, key);
        if (key && results[i]!.outcome === "revoked") key = { ...key, record: { ...key.record, status: "revoked" } };
      } catch (error) {
        failures.push(error);
      }
    }
  });
  if (failures.length > 0) {
    // Safe to retry: the events that say `revoked` without `revoked_at` are completed by the replay.
    log("error", "leaks.revoke_incomplete", { request_id: ctx.requestId, degraded: "propagation_incomplete", counts: { failed: failures.length } });
    throw new ProblemError("authorizer_unavailable", { retryAfterSeconds: 1 });
  }
  return results;
}

async function processOne(ctx: LeakContext, report: LeakReport, key: Found): Promise<LeakResult> {
  const db = ctx.env.DB;
  const fingerprint = report.fingerprint;
  const keyId = key?.record.id ?? null;
  const existing = await findLeakEvent(db, fingerprint);
  if (existing) {
    // Seen before. Two cases still need work: a revocation left half-done (complete it), and a report
    // recorded without revocation that now comes with revocation asked (upgrade it; one caller wins).
    const resume = key !== null && existing.outcome === "revoked" && existing.revoked_at === null;
    const upgrade =
      !resume &&
      key !== null &&
      ctx.revoke &&
      existing.outcome === "recorded" &&
      key.record.status !== "revoked" &&
      (await changeLeakOutcome(db, fingerprint, "recorded", "revoked"));
    if (!resume && !upgrade) return { fingerprint, outcome: existing.outcome, key_id: existing.key_id, duplicate: true };
    await revokeAndPropagate(ctx, key, report, { alwaysPropagate: true });
    await completeRevocation(ctx, key.record, report);
    return { fingerprint, outcome: "revoked", key_id: keyId, duplicate: false };
  }

  const outcome: LeakOutcome = !key ? "no_match" : key.record.status === "revoked" ? "already_revoked" : ctx.revoke ? "revoked" : "recorded";
  const inserted = await insertLeakEvent(db, { keyId, source: ctx.source, fingerprint, location: report.location, reportedAt: ctx.reportedAt, outcome });
  if (!inserted) return { fingerprint, outcome, key_id: keyId, duplicate: true }; // a concurrent replay won
  if (key && outcome === "recorded") notify(ctx, key.record, report, false);
  if (!key || outcome !== "revoked") return { fingerprint, outcome, key_id: keyId, duplicate: false };

  if (!(await revokeAndPropagate(ctx, key, report, { alwaysPropagate: false }))) {
    // Revoked by someone else between our read and our write: theirs is the revocation.
    await changeLeakOutcome(db, fingerprint, "revoked", "already_revoked");
    return { fingerprint, outcome: "already_revoked", key_id: keyId, duplicate: false };
  }
  await completeRevocation(ctx, key.record, report);
  return { fingerprint, outcome: "revoked", key_id: keyId, duplicate: false };
}

/** D1 (with the audit row), then the key's object, KV and caches. Returns whether D1 changed. */
async function revokeAndPropagate(ctx: LeakContext, key: NonNullable<Found>, report: LeakReport, { alwaysPropagate }: { alwaysPropagate: boolean }) {
  const at = Date.now();
  const { changed } = await revokeKey(ctx.env.DB, key.record.id, LEAKED_REASON, {
    actor: ctx.actor,
    action: "revoke",
    requestId: ctx.requestId,
    at,
    changes: { status: "revoked", revoke_reason: LEAKED_REASON, leak_source: ctx.source, location: report.location },
  });
  if (!changed && !alwaysPropagate) return false;
  const current = await findKeyById(ctx.env.DB, key.record.id);
  if (current) await propagateChange(ctx.env, current.record, current.keyHash);
  return true;
}

async function completeRevocation(ctx: LeakContext, record: KeyRecord, report: LeakReport) {
  await markLeakRevoked(ctx.env.DB, report.fingerprint, Date.now());
  notify(ctx, record, report, true);
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
