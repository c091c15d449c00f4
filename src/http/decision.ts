/**
 * The decision: what the verify pipeline answers, what the gateway acts on and what `AuthService.verify`
 * returns over RPC, with the RPC's parameters. Types only, importing nothing but the problem codes, so a
 * calling Worker (integrations/hono) can type its binding and its decision from here without pulling the
 * authorizer's storage, Durable Objects and `Cloudflare.Env` into its own type-check.
 */
import type { ProblemCode } from "../http/problem";

export interface VerifyParams {
  /** The key exactly as the client presented it. */
  key: string;
  /** An HTTP method, upper case. */
  method: string;
  /** The request's path, without query string; the same canonical-path rules as the gateway apply. */
  path: string;
  /** The client's address. A key with an IP allowlist is refused when it is missing. */
  ip?: string;
  /** The browser's Origin header, for publishable keys with allowed_origins. */
  origin?: string;
}

/** One of the limits a decision reports: its size and what is left of the current window after the request. */
export interface DecisionLimit {
  name: string;
  limit: number;
  window_seconds: number;
  remaining: number;
  /** When the current window ends (epoch ms). */
  reset_at: number;
  /** Set on a consumer's shared limits; absent on the key's own. */
  subject?: "consumer";
}

export type Decision =
  | {
      valid: true;
      code: "valid";
      key_id: string;
      owner_id: string;
      scopes: string[];
      environment: "live" | "test";
      metadata: Record<string, unknown>;
      /**
       * The limits after this request: what is left and when each window resets; the key's own, then its
       * consumer's (marked `subject: "consumer"`).
       */
      limits: DecisionLimit[];
    }
  | {
      valid: false;
      code: ProblemCode;
      required_scopes?: string[];
      /** When a retry may succeed (epoch ms); null when the request needs more than a limit's whole size. */
      retry_at?: number | null;
      limits?: DecisionLimit[];
    };

/** What `AuthService` answers over RPC; the entrypoint class implements it, so the two cannot drift apart. */
export interface AuthServiceContract {
  verify(params: VerifyParams): Promise<Decision>;
}
