/**
 * Ingest leak reports, whatever reported them (GitHub, gitleaks, truffleHog, the built-in scanner, the
 * gateway): record one event per report and revoke the keys and admin credentials the policy says to
 * (src/leaks/process.ts decides and records). A key's revocation is the admin revocation's own protocol,
 * changeKey: announced to the key's object, then D1 with its audit row naming the actor, then the object, KV
 * and caches. A credential's is the admin revocation's too: one D1 batch with its audit row (every admin
 * request reads its credential from D1, so nothing else holds it). Then the owners, and the credentials'
 * creators, are told. Revocations run LEAK_CONCURRENCY at once and the wait for old leases once per batch.
 */
import { markCredentialRevoked } from "../credentials/store";
import { markKeyRevoked } from "../keys/store";
import type { KeyRecord } from "../keys/key-record";
import { changeKey, waitForLeases } from "../key-change/change-key";
import type { LeakedSubject } from "../leaks/subjects";
import {
  finishLeakReports,
  LEAK_CONCURRENCY,
  LEAKED_REASON,
  mapPool,
  planLeakReports,
  settleRevocation,
  type LeakContext,
  type LeakPolicy,
  type LeakReport,
  type LeakResult,
} from "../leaks/process";
import type { AuditEntry } from "../audit/audit-log";
import { auditEntry, type OperationContext } from "./context";
import { clock } from "../util/clock";

export interface LeakIntake extends LeakPolicy {
  /** When the reports reached the authorizer (epoch ms). */
  reportedAt: number;
  reports: readonly LeakReport[];
}

/**
 * One result per report, in order. Throws 503 if a revocation could not be completed; replaying the same
 * reports completes it.
 */
export async function ingestLeakReports(ctx: OperationContext, intake: LeakIntake): Promise<LeakResult[]> {
  const { reports, reportedAt, source, revoke, notifyType } = intake;
  const leak: LeakContext = {
    env: ctx.env,
    waitUntil: ctx.waitUntil,
    requestId: ctx.requestId,
    source,
    revoke,
    reportedAt,
    notifyType,
  };
  const plan = await planLeakReports(leak, reports);
  let failures = 0;
  const completed: number[] = [];
  const leaseEnds = await mapPool([...plan.revocations.values()], LEAK_CONCURRENCY, async (revocation) => {
    const { subject, fresh, resumed } = revocation;
    if (fresh.length === 0 && resumed.length === 0) return 0;
    try {
      const { changed, leasesExpireAt } = await revokeLeaked(ctx, leak, subject, reports[fresh[0] ?? resumed[0]!]!);
      completed.push(...(await settleRevocation(leak, reports, plan, revocation, changed)));
      return leasesExpireAt;
    } catch {
      failures++;
      return 0;
    }
  });
  // Once for the whole batch: when this returns, no lease granted under a revoked key's old version is left.
  await waitForLeases(Math.max(0, ...leaseEnds));
  return finishLeakReports(leak, reports, plan, completed, failures);
}

/** Revokes the key or credential; `changed`: whether D1 changed, `leasesExpireAt`: 0 for a credential. */
async function revokeLeaked(ctx: OperationContext, leak: LeakContext, subject: LeakedSubject, report: LeakReport) {
  const at = clock.now();
  const changes = {
    status: "revoked",
    revoke_reason: LEAKED_REASON,
    leak_source: leak.source,
    location: report.location,
  };
  // A batch revokes many keys: the request log names none of them (the answer does), so nothing is observed.
  const audit = auditEntry({ ...ctx, observe: undefined }, "revoke", at, changes);
  if (subject.kind === "key") return revokeLeakedKey(ctx, subject.record, audit);
  const changed = await markCredentialRevoked(ctx.env.DB, subject.record.id, LEAKED_REASON, audit);
  return { changed, leasesExpireAt: 0 };
}

/**
 * Announce, D1 (with the audit row), re-read, push (changeKey), without waiting for leases. Pushed even when
 * D1 already said revoked, so a replay completes a revocation whose push failed. `changed`: whether D1 changed.
 */
async function revokeLeakedKey(ctx: OperationContext, record: KeyRecord, audit: AuditEntry) {
  const { written, leasesExpireAt } = await changeKey(
    ctx.env,
    record,
    () => markKeyRevoked(ctx.env.DB, record.id, LEAKED_REASON, audit),
    {
      waitForLeases: false,
    },
  );
  return { changed: written.changed, leasesExpireAt };
}
