/**
 * The Worker's entry: HTTP (gateway and admin) through the Hono app, the Cron Trigger's scheduled work,
 * and the RPC entrypoint that other Workers bind to.
 */
import { app } from "./app";
import { runScheduled } from "./monitoring/scheduled";

export { AuthService } from "./rpc/auth-service";
export { KeyObject } from "./limits/key-object";

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    await runScheduled(env, (p) => ctx.waitUntil(p), controller.scheduledTime);
  },
} satisfies ExportedHandler<Cloudflare.Env>;
