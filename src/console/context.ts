/** What every console page runs with: the session, the principal, and the operations' context built from them. */
import type { Context } from "hono";
import type { AdminPermission } from "../operations/permissions";
import { loadConfig, type Config } from "../config";
import { requestScope } from "../http/request-scope";
import { loadMonitoringConfig, type MonitoringConfig } from "../monitoring/config";
import type { AdminActor } from "../operations/actor";
import type { OperationContext } from "../operations/context";
import type { ConsolePrincipal } from "./principal";
import type { SessionVariables } from "./session";
import type { Session } from "./session-store";

type ConsoleVariables = SessionVariables & { principal?: ConsolePrincipal; tokenSignIn: boolean };
export type ConsoleEnv = { Bindings: Cloudflare.Env; Variables: ConsoleVariables };
export type ConsoleContext = Context<ConsoleEnv>;

/** Thrown by a page: rendered by the app as an HTML page with this status (src/console/app.ts). */
export class ConsoleRefusal extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 429 | 503,
    readonly title: string,
    readonly detail: string,
  ) {
    super(title);
    this.name = "ConsoleRefusal";
  }
}

/** The signed-in principal (pages behind sign-in only). */
function principal(c: ConsoleContext): ConsolePrincipal {
  const p = c.var.principal;
  if (!p) throw new ConsoleRefusal(403, "Sign in first", "This page needs a console session.");
  return p;
}

export function session(c: ConsoleContext): Session {
  const s = c.var.session;
  if (!s) throw new ConsoleRefusal(403, "Sign in first", "This page needs a console session.");
  return s;
}

/** 403 unless the principal holds the permission the operation's admin route names. */
export function requirePermission(c: ConsoleContext, permission: AdminPermission): void {
  if (!principal(c).permissions.has(permission)) {
    throw new ConsoleRefusal(403, "Not allowed", `Your access does not include ${permission}.`);
  }
}

export function can(c: ConsoleContext, permission: AdminPermission): boolean {
  return c.var.principal?.permissions.has(permission) ?? false;
}

/** The context the page's operation runs in: the session's principal acts, as it would through the admin API. */
export function consoleOperation(c: ConsoleContext): OperationContext<AdminActor> {
  return { ...requestScope(c), actor: principal(c).actor };
}

export function deploymentConfig(c: ConsoleContext): Config {
  const loaded = loadConfig(c.env);
  if (!loaded.ok) throw new ConsoleRefusal(503, "Unavailable", `The setting ${loaded.setting} is malformed.`);
  return loaded.config;
}

export function monitoring(c: ConsoleContext): MonitoringConfig {
  const loaded = loadMonitoringConfig(c.env);
  if (!loaded.ok) throw new ConsoleRefusal(503, "Unavailable", `The setting ${loaded.setting} is malformed.`);
  return loaded.config;
}

/** A link inside the console: its prefix, then the path. */
export const href = (c: ConsoleContext, path: string) => `${c.var.base}${path}`;
