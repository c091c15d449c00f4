/**
 * The Worker's entry. HTTP: the reserved paths (health, admin API, webhooks) go to the Hono app, every
 * other path to the gateway directly. Also the Cron Trigger's scheduled work, the RPC entrypoint other
 * Workers bind to, and the per-key Durable Object class.
 */
import { app } from "./app";
import { handleGateway } from "./gateway/gateway";
import { runScheduled } from "./monitoring/scheduled";
import { isReservedPath } from "./reserved-paths";

export { AuthService } from "./rpc/auth-service";
export { KeyObject } from "./limits/key-object";
export { ConsumerObject } from "./consumers/consumer-object";

export default {
  fetch(request: Request, env: Cloudflare.Env, ctx: ExecutionContext) {
    const url = new URL(request.url);
    return isReservedPath(url.pathname) ? app.fetch(request, env, ctx) : handleGateway(request, url, env, ctx);
  },
  async scheduled(controller, env, ctx) {
    await runScheduled(env, (p) => ctx.waitUntil(p), controller.scheduledTime);
  },
} satisfies ExportedHandler<Cloudflare.Env>;
