/**
 * What every operation runs with: who acts, the bindings, the id of the request it serves (on audit rows and
 * log lines) and a way to run work after the answer. No HTTP: the admin routes, the webhooks and the gateway
 * build one from their request, and the console and the portal will too.
 */
import type { RequestScope } from "../http/context";
import type { AuditAction, AuditEntry } from "../audit/audit-log";
import type { Actor } from "./actor";
import { actorName } from "./actor";

/**
 * Told what an operation is about as soon as it knows, so the request log can name the key and the action
 * even when the operation then fails part-way.
 */
interface OperationObserver {
  keyId(id: string): void;
  auditAction(action: AuditAction): void;
}

/** The bindings, the request's id (on audit rows and log lines), its background work (owner notices), and who acts. */
export interface OperationContext<A extends Actor = Actor> extends RequestScope {
  actor: A;
  observe?: OperationObserver;
}

/** The audit row of a change this operation makes, naming its actor and request. */
export function auditEntry(
  ctx: OperationContext,
  action: AuditAction,
  at: number,
  changes: Record<string, unknown>,
): AuditEntry {
  ctx.observe?.auditAction(action);
  return { actor: actorName(ctx.actor), action, requestId: ctx.requestId, at, changes };
}
