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

/** What work done for one request runs with: the bindings, the request's id and its background work. */
export interface RequestScope {
  env: Cloudflare.Env;
  requestId: string;
  waitUntil: WaitUntil;
}

/** `request.cf` as the runtime gives it (absent over RPC and in most tests); only monitoring reads it. */
export type RequestCf = object;

/**
 * Where the verify path reports each final decision. The pipeline is handed one (monitoring's, from
 * src/monitoring/decision-sink.ts) instead of importing monitoring, so it reaches no storage but the key's.
 * Never awaits.
 * @example decisions.recordDecision(keyId, decision.code, input.ip, input.cf, now);
 */
export interface DecisionSink {
  /** @param keyId the key the decision is about, or null when no key was identified */
  recordDecision(
    keyId: string | null,
    outcome: string,
    ip: string | null,
    cf: RequestCf | undefined,
    now: number,
  ): void;
}
