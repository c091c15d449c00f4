/**
 * What the admin routes that feed findings in (under /admin/v1/leaks, behind the admin credential) share:
 * ingest-gitleaks.ts, ingest-trufflehog.ts and ingest-scanner.ts. Each is rate-limited per caller, bounded in
 * size, validated whole before anything is revoked, and answers one result per finding; a replay of the same
 * findings is idempotent. What happens to a finding is src/leaks/.
 */
import type { LeakSource } from "../leaks/events";
import type { LeakContext } from "../leaks/process";
import { leakContextOf } from "../leaks/report-request";
import { limitLeakRoute } from "../leaks/route-limit";
import type { AdminContext } from "./context";

/** The ingest routes' limit, per admin credential and client address (429 when used up). */
export function limitIngest(c: AdminContext, now: number): void {
  limitLeakRoute("ingest", `${c.get("actor")}|${c.req.header("CF-Connecting-IP") ?? ""}`, now);
}

/** The context for reports an admin credential sends: it is the audit actor of what they revoke. */
export function adminLeakContext(c: AdminContext, source: LeakSource, revoke: boolean, reportedAt: number): LeakContext {
  return leakContextOf(c, { source, actor: c.get("actor"), revoke }, reportedAt);
}
