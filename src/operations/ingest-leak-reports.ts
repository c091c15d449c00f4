/**
 * Ingest leak reports, whatever reported them (GitHub, gitleaks, truffleHog, the built-in scanner, the
 * gateway): record one event per report and revoke the keys the policy says to (src/leaks/process.ts decides
 * and records; the revocation is the admin revocation's own protocol, changeKey: announced to the key's
 * object, then D1 with its audit row naming the actor, then the object, KV and caches), then tell the
 * owners. Keys are revoked LEAK_CONCURRENCY at once and the wait for old leases runs once for the batch.
 */
import { markKeyRevoked } from "../keys/store";
import type { KeyRecord } from "../keys/key-record";
import { changeKey, waitForLeases } from "../key-change/change-key";
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
    const { record, fresh, resumed } = revocation;
    if (fresh.length === 0 && resumed.length === 0) return 0;
    try {
      const { changed, leasesExpireAt } = await revokeLeaked(ctx, leak, record, reports[fresh[0] ?? resumed[0]!]!);
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

/**
 * Announce, D1 (with the audit row), re-read, push (changeKey), without waiting for leases. Pushed even when
 * D1 already said revoked, so a replay completes a revocation whose push failed. `changed`: whether D1 changed.
 */
async function revokeLeaked(ctx: OperationContext, leak: LeakContext, record: KeyRecord, report: LeakReport) {
  const at = clock.now();
  const changes = {
    status: "revoked",
    revoke_reason: LEAKED_REASON,
    leak_source: leak.source,
    location: report.location,
  };
  // A batch revokes many keys: the request log names none of them (the answer does), so nothing is observed.
  const audit = auditEntry({ ...ctx, observe: undefined }, "revoke", at, changes);
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
