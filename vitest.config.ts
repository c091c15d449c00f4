import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { buildHonoCaller } from "./test/fixtures/build-hono-caller.mjs";
import { linesWithKeys } from "./test/key-guard.ts";

/**
 * The key guard for the console: the authorizer's own log lines are captured and checked in test/setup.ts;
 * anything printed (a test, a fixture, a failed test's log lines) is checked here, and one line that holds
 * a valid key fails the run.
 */
const leakedLines: string[] = [];
const keyLogGuard = {
  onTestRunEnd() {
    if (leakedLines.length === 0) return;
    console.error(`\n${leakedLines.length} console line(s) contained an API key:\n${leakedLines.join("\n")}`);
    process.exitCode = 1;
  },
};

/** The runner Worker's name is derived from the project name; the caller fixture binds to it. */
const PROJECT = "authorizer";

export default defineConfig(async () => ({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      // workerd's own warnings (a header with non-ASCII characters, which hostile tests send on purpose;
      // a client that hung up) would print around the key guard, raw header values and all.
      verbose: false,
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
          ADMIN_TOKEN: "test-admin-token-0123456789",
        },
        // ORIGIN_URL is empty in wrangler.toml, so the gateway forwards over this service binding.
        serviceBindings: { ORIGIN: "origin", CALLER: "caller", HONO_CALLER: "hono-caller" },
        // Tests never touch the network: every fetch() to a URL (ORIGIN_URL mode) also lands on the origin fixture.
        outboundService: "origin",
        workers: [
          { name: "origin", modules: true, scriptPath: "./test/fixtures/origin.js", compatibilityDate: "2026-11-01" },
          {
            name: "caller",
            modules: true,
            scriptPath: "./test/fixtures/caller.js",
            compatibilityDate: "2026-11-01",
            serviceBindings: { AUTH: { name: `vitest-plugin-runner-${PROJECT}`, entrypoint: "AuthService" } },
          },
          {
            // integrations/hono in a Worker of its own: TypeScript with dependencies, bundled in memory (tens of ms).
            name: "hono-caller",
            modules: true,
            script: (await buildHonoCaller()).code,
            compatibilityDate: "2026-11-01",
            serviceBindings: {
              AUTH: { name: `vitest-plugin-runner-${PROJECT}`, entrypoint: "AuthService" },
              BROKEN_AUTH: { name: "hono-caller", entrypoint: "BrokenAuthService" },
            },
          },
        ],
      },
    }),
  ],
  test: {
    name: PROJECT,
    onConsoleLog: (log: string) => {
      leakedLines.push(...linesWithKeys(log.split("\n")));
    },
    reporters: ["default", keyLogGuard],
    include: ["test/**/*.test.ts"],
    setupFiles: ["./test/setup.ts"],
    // One workerd for all files instead of one per file (most of the run's time was their start-up); each
    // file still starts from empty storage and a fresh isolate's state (test/setup.ts).
    isolate: false,
  },
}));
