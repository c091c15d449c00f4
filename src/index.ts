/**
 * The Worker's entry. HTTP: the console's host or prefix (when configured) goes to the console, the reserved
 * paths (health, admin API, webhooks) to the Hono app, every other path to the gateway directly. Also the
 * Cron Trigger's scheduled work, the RPC entrypoint other Workers bind to, and the Durable Object classes.
 */
import { app } from "./app";
import { loadConsoleConfig, type ConsoleMount } from "./config";
import { handleGateway } from "./gateway/gateway";
import { runScheduled } from "./monitoring/scheduled";
import { isReservedPath, RESERVED_FIRST_SEGMENTS } from "./reserved-paths";

export { AuthService } from "./rpc/auth-service";
export { KeyObject } from "./limits/key-object";
export { ConsumerObject } from "./consumers/consumer-object";

/**
 * Whether the console answers this URL: every path of its own hostname, or its prefix (exactly, or followed
 * by "/") on any other. Nothing else is taken from the origin.
 */
function onConsole(mount: ConsoleMount, url: URL): boolean {
  if (mount.hostname !== null) return url.hostname === mount.hostname;
  const p = url.pathname;
  return p.startsWith(mount.prefix) && (p.length === mount.prefix.length || p[mount.prefix.length] === "/");
}

export default {
  fetch(request: Request, env: Cloudflare.Env, ctx: ExecutionContext) {
    const url = new URL(request.url);
    const consoleConfig = loadConsoleConfig(env, RESERVED_FIRST_SEGMENTS);
    if (consoleConfig && onConsole(consoleConfig.mount, url)) {
      // Loaded on first use: an isolate that only serves the gateway never evaluates the console's modules.
      return import("./console/app").then(({ consoleApp }) => consoleApp.fetch(request, env, ctx));
    }
    return isReservedPath(url.pathname) ? app.fetch(request, env, ctx) : handleGateway(request, url, env, ctx);
  },
  async scheduled(controller, env, ctx) {
    await runScheduled(env, (p) => ctx.waitUntil(p), controller.scheduledTime);
  },
} satisfies ExportedHandler<Cloudflare.Env>;
