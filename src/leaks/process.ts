/**
 * What happens to a reported key or admin credential (its subject, ./subjects.ts), whatever reported it
 * (GitHub, gitleaks, truffleHog, the scanner, the gateway), around its revocation: find it by hash, record one
 * leak event per report fingerprint, decide which the policy revokes, and once they are revoked mark the
 * events completed and tell the owners (a credential's creator). The revocation itself is the "ingest leak
 * reports" operation's (src/operations/ingest-leak-reports.ts): a key's goes through the key-change protocol
 * like the admin revocation, which sits above this layer. A replayed
 * report finds its event and changes nothing; a revocation that failed part-way (its event says `revoked`
 * with no `revoked_at`) is completed by the replay.
 *
 * A batch costs D1 a fixed number of set-based statements (keys and credentials by hash, events by
 * fingerprint, the new events, the completions) plus three per key and one per credential it revokes, however
 * many reports match nothing.
 */
import { ProblemError } from "../http/problem";
import type { WaitUntil } from "../http/context";
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
import {
  findLeakedSubjects,
  isRevoked,
  notifyLeak,
  subjectColumns,
  subjectId,
  type LeakedSubject,
  type SubjectHashes,
} from "./subjects";

/** The revocation reason stored on a key or credential revoked because it was found exposed. */
export const LEAKED_REASON = "leaked";
/** Keys (and credentials) revoked at once (each key is a few calls to its object and to D1). */
export const LEAK_CONCURRENCY = 16;

/** `keyHash` / `credentialHash`: the reported string's SHA-256 where the grammar says it may be found; null: never a match. */
export interface LeakReport extends SubjectHashes {
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
  /** The owner notification's type: "key.leaked", or "key.exposed" for the gateway ("credential.…" for a credential). */
  notifyType?: "key.leaked" | "key.exposed";
}

/** Who reports, and what to do with a live key: what each way in (webhook, admin ingest, gateway) decides. */
export type LeakPolicy = Pick<LeakContext, "source" | "revoke" | "notifyType">;

export interface LeakResult {
  fingerprint: string;
  outcome: LeakOutcome;
  /** The key it matched; null for no match and for an admin credential (whose creator is told its id). */
  key_id: string | null;
  /** True when this report was already recorded: nothing was done for it this time. */
  duplicate: boolean;
}

/** A revocation this batch makes: the key or credential, and the reports (by index) it completes. */
export interface Revocation {
  subject: LeakedSubject;
  /** Reports whose new event says `revoked`: they become `already_revoked` if someone else revoked first. */
  fresh: number[];
  /** Reports whose event was already `revoked` (a resume) or was upgraded from `recorded`. */
  resumed: number[];
}

/** What a batch does, decided before anything is written. */
export interface LeakPlan {
  /** Each report's key or credential (null: no match). */
  subjects: (LeakedSubject | null)[];
  /** One per report; left empty for a report repeating an earlier report's fingerprint (filled in at the end). */
  results: LeakResult[];
  /** fingerprint → the first report in the batch carrying it. */
  firstOf: Map<string, number>;
  /** The events to insert, with the report each is for. */
  fresh: { index: number; event: NewLeakEvent }[];
  /** key or credential id → its revocation. */
  revocations: Map<string, Revocation>;
}

/**
 * Finds the reported keys and credentials, decides every report and records the new events (telling the
 * owners of those only recorded). What is left is the plan's revocations, then `settleRevocation` for each and `finishLeakReports`.
 */
export async function planLeakReports(ctx: LeakContext, reports: readonly LeakReport[]): Promise<LeakPlan> {
  const subjects = await findLeakedSubjects(ctx.env.DB, reports);
  const plan = await decide(ctx, reports, subjects);
  await recordEvents(ctx, reports, plan);
  return plan;
}

/**
 * Decides every report in order against the events already recorded and this batch's view of each subject,
 * so a batch naming a key twice revokes and notifies once. Writes only to upgrade a `recorded` event (rare).
 */
async function decide(
  ctx: LeakContext,
  reports: readonly LeakReport[],
  subjects: (LeakedSubject | null)[],
): Promise<LeakPlan> {
  const db = ctx.env.DB;
  const existing = await findLeakEvents(db, [...new Set(reports.map((r) => r.fingerprint))]);
  const plan: LeakPlan = {
    subjects,
    results: new Array(reports.length),
    firstOf: new Map(),
    fresh: [],
    revocations: new Map(),
  };
  /** The subjects this batch revokes: a later report of one sees it revoked. */
  const revokedNow = new Set<string>();
  const revocationOf = (subject: LeakedSubject) => {
    revokedNow.add(subjectId(subject));
    const r = plan.revocations.get(subjectId(subject)) ?? { subject, fresh: [], resumed: [] };
    plan.revocations.set(subjectId(subject), r);
    return r;
  };
  for (const [i, report] of reports.entries()) {
    const { fingerprint } = report;
    if (plan.firstOf.has(fingerprint)) continue;
    plan.firstOf.set(fingerprint, i);
    const subject = subjects[i] ?? null;
    const { keyId } = subjectColumns(subject);
    const revoked = subject !== null && (revokedNow.has(subjectId(subject)) || isRevoked(subject));
    const seen = existing.get(fingerprint);
    if (seen) {
      // Seen before. Two cases still need work: a revocation left half-done (complete it), and a report
      // recorded without revocation that now comes with revocation asked (upgrade it; one caller wins).
      const resume = subject !== null && seen.outcome === "revoked" && seen.revoked_at === null;
      const upgrade =
        !resume &&
        subject !== null &&
        ctx.revoke &&
        seen.outcome === "recorded" &&
        !revoked &&
        (await changeLeakOutcome(db, fingerprint, "recorded", "revoked"));
      if (subject && (resume || upgrade)) {
        revocationOf(subject).resumed.push(i);
        plan.results[i] = { fingerprint, outcome: "revoked", key_id: keyId, duplicate: false };
      } else {
        plan.results[i] = { fingerprint, outcome: seen.outcome, key_id: seen.key_id, duplicate: true };
      }
      continue;
    }
    const outcome: LeakOutcome = !subject
      ? "no_match"
      : revoked
        ? "already_revoked"
        : ctx.revoke
          ? "revoked"
          : "recorded";
    if (subject && outcome === "revoked") revocationOf(subject).fresh.push(i);
    plan.results[i] = { fingerprint, outcome, key_id: keyId, duplicate: false };
    plan.fresh.push({
      index: i,
      event: {
        ...subjectColumns(subject),
        source: ctx.source,
        fingerprint,
        location: report.location,
        reportedAt: ctx.reportedAt,
        outcome,
      },
    });
  }
  return plan;
}

/** Inserts the new events in one statement and tells the owners of what is recorded (not revoked) by policy. */
async function recordEvents(ctx: LeakContext, reports: readonly LeakReport[], plan: LeakPlan) {
  const inserted = await insertLeakEvents(
    ctx.env.DB,
    plan.fresh.map((f) => f.event),
  );
  for (const { index, event } of plan.fresh) {
    if (!inserted.has(event.fingerprint)) {
      plan.results[index]!.duplicate = true; // a concurrent replay recorded it first: that one acts on it
    } else if (event.outcome === "recorded") {
      notify(ctx, plan.subjects[index]!, reports[index]!, false);
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
    if (marked.has(reports[i]!.fingerprint)) notify(ctx, plan.subjects[i]!, reports[i]!, true);
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

function notify(ctx: LeakContext, subject: LeakedSubject, report: LeakReport, revoked: boolean) {
  notifyLeak(ctx.env, ctx.waitUntil, subject, {
    source: ctx.source,
    location: report.location,
    revoked,
    reportedAt: ctx.reportedAt,
    keyType: ctx.notifyType ?? "key.leaked",
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
