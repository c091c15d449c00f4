/**
 * Types every layer shares, in a module that imports nothing: the Hono environment of the Worker's own
 * routes, and the runtime's `waitUntil`. They live here, not in src/app.ts, so that no module below the app
 * has to import the app to name them.
 */

/** The Hono environment of the reserved paths (src/app.ts and every router and handler under it). */
export type AppEnv = {
  Bindings: Cloudflare.Env;
  /** keyId, auditAction and actor are set by the handlers that know them, for the request log. */
  Variables: { requestId: string; keyId?: string; auditAction?: string; actor?: string };
};

/** `ExecutionContext.waitUntil`, passed down as a function: work that runs on after the response. */
export type WaitUntil = (promise: Promise<unknown>) => void;
