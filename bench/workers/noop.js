// Floor and origin: answers 200 at once. Also the floor for RPC: `NoopAuth.verify` answers a valid decision
// of the same shape and about the same size as AuthService.verify's, without checking anything.
import { WorkerEntrypoint } from "cloudflare:workers";

const DECISION = {
  valid: true,
  code: "valid",
  key_id: "key_0000000000000000000000",
  owner_id: "bench",
  scopes: ["read"],
  environment: "live",
  metadata: {},
  limits: [{ name: "hour", limit: 1_000_000_000, window_seconds: 3600, remaining: 999_999_999, reset_at: 0 }],
};

export class NoopAuth extends WorkerEntrypoint {
  verify() {
    return DECISION;
  }
}

export default {
  fetch() {
    return new Response("ok");
  },
};
