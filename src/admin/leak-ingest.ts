/**
 * What the admin routes that feed findings in (under /admin/v1/leaks, behind the admin credential) share:
 * ingest-gitleaks.ts, ingest-trufflehog.ts and ingest-scanner.ts. Each is rate-limited per caller before its
 * body is read, bounded in size and validated whole before anything is revoked; the operation is
 * src/operations/ingest-findings.ts.
 */
import { requestScope } from "../http/request-scope";
import { limitLeakRoute } from "../leaks/route-limit";
import type { AdminActor } from "../operations/actor";
import type { OperationContext } from "../operations/context";
import type { AdminContext } from "./context";

/** The ingest routes' limit, per admin credential and client address (429 when used up). */
export function limitIngest(c: AdminContext, now: number): void {
  limitLeakRoute("ingest", `${c.get("actor")}|${c.req.header("CF-Connecting-IP") ?? ""}`, now);
}

/**
 * The context of an ingest: the admin credential is the audit actor of what it revokes. Unlike a change to
 * one key, the request log names no key or action for it (a report revokes many keys).
 */
export function ingestOperation(c: AdminContext): OperationContext<AdminActor> {
  return { ...requestScope(c), actor: c.get("adminActor") };
}
