import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** The runner Worker's name is derived from the project name; the caller fixture binds to it. */
const PROJECT = "authorizer";

export default defineConfig(async () => ({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
          ADMIN_TOKEN: "test-admin-token-0123456789",
        },
        // ORIGIN_URL is empty in wrangler.toml, so the gateway forwards over this service binding.
        serviceBindings: { ORIGIN: "origin", CALLER: "caller" },
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
        ],
      },
    }),
  ],
  test: {
    name: PROJECT,
    include: ["test/**/*.test.ts"],
    setupFiles: ["./test/setup.ts"],
  },
}));
