/**
 * The Worker's entry: HTTP (gateway and admin) through the Hono app, and the RPC entrypoint that other
 * Workers bind to.
 */
import { app } from "./app";

export { AuthService } from "./rpc/auth-service";
export { KeyObject } from "./limits/key-object";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Cloudflare.Env>;
