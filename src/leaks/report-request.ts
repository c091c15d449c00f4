/** The request of a leak route of the app (a webhook or an admin ingest route), as leak processing needs it. */
import type { Context } from "hono";
import type { AppEnv } from "../http/context";
import { leakContext, type LeakContext, type LeakPolicy } from "./process";

/** The context for reports received by this route's request, at `reportedAt`. */
export function leakContextOf<E extends AppEnv>(c: Context<E>, policy: LeakPolicy, reportedAt: number): LeakContext {
  return leakContext({ env: c.env, waitUntil: (p) => c.executionCtx.waitUntil(p), requestId: c.var.requestId }, policy, reportedAt);
}
