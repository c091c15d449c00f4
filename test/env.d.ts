declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    /** The caller fixture Worker, which calls AuthService.verify over RPC. */
    CALLER: Fetcher;
    /** The Hono caller fixture Worker, which authorizes with integrations/hono (test/fixtures/hono-caller.ts). */
    HONO_CALLER: Fetcher;
  }
}
