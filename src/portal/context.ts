/**
 * What every portal page runs with: the consumer's session, the consumer as D1 has it now, and the operations'
 * context in which the consumer itself acts (`portal:<consumer id>`), limited to its own keys by its grant.
 */
import type { Context } from "hono";
import { loadConfig, type Config } from "../config";
import type { ConsumerRecord } from "../consumers/consumer-record";
import { ConsoleRefusal } from "../console/context";
import type { SessionVariables } from "../console/session";
import { requestScope } from "../http/request-scope";
import type { PortalActor } from "../operations/actor";
import type { OperationContext } from "../operations/context";

type PortalVariables = SessionVariables & { consumer?: ConsumerRecord; returnUrl?: string | null };
export type PortalEnv = { Bindings: Cloudflare.Env; Variables: PortalVariables };
export type PortalContext = Context<PortalEnv>;

const ended = () =>
  new ConsoleRefusal(403, "Your session has ended", "Go back to your platform and open the portal from there again.");

export function portalActor(c: PortalContext): PortalActor {
  const actor = c.var.session?.actor;
  if (actor?.kind !== "portal") throw ended();
  return actor;
}

/** The session's consumer, as read at this request (its status decides whether the portal is read-only). */
export function consumer(c: PortalContext): ConsumerRecord {
  const found = c.var.consumer;
  if (!found) throw ended();
  return found;
}

export function csrfToken(c: PortalContext): string {
  const s = c.var.session;
  if (!s) throw ended();
  return s.csrfToken;
}

/** A disabled consumer's portal shows everything and changes nothing. */
export const readOnly = (c: PortalContext) => consumer(c).status !== "active";

/** 409 on a disabled consumer's portal, before any form is read: nothing is changed. */
export function requireWritable(c: PortalContext): void {
  if (readOnly(c)) {
    throw new ConsoleRefusal(409, "Read only", "Your access is disabled: your keys can be seen here but not changed.");
  }
}

/** The context the page's operation runs in: the consumer acts, on its own keys only. */
export function portalOperation(c: PortalContext): OperationContext<PortalActor> {
  return { ...requestScope(c), actor: portalActor(c) };
}

export function deploymentConfig(c: PortalContext): Config {
  const loaded = loadConfig(c.env);
  if (!loaded.ok) throw new ConsoleRefusal(503, "Unavailable", "The portal is not available right now.");
  return loaded.config;
}

/** A link inside the portal: its prefix (the console's, then /portal), then the path. */
export const href = (c: PortalContext, path: string) => `${c.var.base}${path}`;
