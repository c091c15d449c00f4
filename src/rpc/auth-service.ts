/**
 * Workers RPC for other Workers: `env.AUTH.verify({ key, method, path, ip?, origin? })` answers the same
 * decision the gateway acts on, after every check the gateway makes. Inputs are validated as untrusted:
 * the caller is another Worker, but the values in it came from somebody's request. Its types are in
 * http/decision.ts, which callers import.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { loadConfig } from "../config";
import { logRefusal } from "../util/log";
import { clock } from "../util/clock";
import { canonicalPath } from "../verify/paths";
import { isSupportedMethod } from "../http/route-policy";
import { verifyKey, verifyStores } from "../verify/verify";
import type { AuthServiceContract, Decision, VerifyParams } from "../http/decision";
import { decisionSink } from "../monitoring/decision-sink";

const optionalString = (v: unknown) => v === undefined || (typeof v === "string" && v.length <= 256);

export class AuthService extends WorkerEntrypoint<Cloudflare.Env> implements AuthServiceContract {
  async verify(params: VerifyParams): Promise<Decision> {
    const decision = await this.#decide(params);
    if (!decision.valid) logRefusal("info", { code: decision.code, via: "rpc" });
    return decision;
  }

  async #decide(params: VerifyParams): Promise<Decision> {
    const p = (typeof params === "object" && params !== null ? params : {}) as Partial<
      Record<keyof VerifyParams, unknown>
    >;
    if (
      typeof p.key !== "string" ||
      typeof p.method !== "string" ||
      typeof p.path !== "string" ||
      !optionalString(p.ip) ||
      !optionalString(p.origin)
    ) {
      return { valid: false, code: "malformed_request" };
    }
    const loaded = loadConfig(this.env);
    if (!loaded.ok) return { valid: false, code: "authorizer_unavailable" };
    if (!isSupportedMethod(p.method)) return { valid: false, code: "method_not_allowed" };
    const path = canonicalPath(p.path);
    if (!path) return { valid: false, code: "malformed_request" };
    const waitUntil = (w: Promise<unknown>) => this.ctx.waitUntil(w);
    const decisions = decisionSink(this.env, waitUntil);
    if (p.key === "") {
      decisions.recordDecision(null, "missing_api_key", null, undefined, clock.now()); // monitoring
      return { valid: false, code: "missing_api_key" };
    }
    return verifyKey(
      verifyStores(this.env, waitUntil, decisions),
      loaded.config,
      {
        key: p.key,
        method: p.method,
        segments: path.segments,
        ip: (p.ip as string) ?? null,
        origin: (p.origin as string) ?? null,
      },
      clock.now(),
    );
  }
}
