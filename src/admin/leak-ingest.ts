/**
 * What the admin routes that feed findings in (under /admin/v1/leaks, behind the admin credential) share:
 * ingest-gitleaks.ts, ingest-trufflehog.ts and ingest-scanner.ts. Each is rate-limited per caller, bounded in
 * size, validated whole before anything is revoked, and answers one result per finding; a replay of the same
 * findings is idempotent. What happens to a finding is src/leaks/.
 */
import { ProblemError } from "../http/problem";
import type { LeakSource } from "../leaks/events";
import type { LeakContext } from "../leaks/process";
import { takeLeakRouteSlot } from "../leaks/route-limit";
import type { AdminContext } from "./context";

/** Takes one of the caller's ingest slots (per admin actor and address), or refuses with 429. */
export function limitIngest(c: AdminContext, now: number): void {
  const caller = `${c.get("actor")}|${c.req.header("CF-Connecting-IP") ?? ""}`;
  const retryAt = takeLeakRouteSlot("ingest", caller, now);
  if (retryAt !== null) throw new ProblemError("rate_limited", { retryAfterSeconds: Math.max(1, Math.ceil((retryAt - now) / 1000)) });
}

/** The leak context of an admin ingest: the admin credential is the audit actor of what it revokes. */
export function leakContext(c: AdminContext, source: LeakSource, revoke: boolean, reportedAt: number): LeakContext {
  return {
    env: c.env,
    waitUntil: (p) => c.executionCtx.waitUntil(p),
    source,
    actor: c.get("actor"),
    requestId: c.get("requestId"),
    revoke,
    reportedAt,
  };
}
