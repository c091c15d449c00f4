import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { anyKeyPatternSource, parseKey } from "./src/keys/format";

/**
 * A key must never reach a log. Every console line the Worker or a test prints is checked for a string of
 * the key grammar with a valid checksum (under any vendor part); one such line fails the run.
 */
const KEY_IN_TEXT = new RegExp(anyKeyPatternSource(), "g");
const leakedLines: string[] = [];
const keyLogGuard = {
  onTestRunEnd() {
    if (leakedLines.length === 0) return;
    console.error(`\n${leakedLines.length} console line(s) contained an API key:\n${leakedLines.join("\n")}`);
    process.exitCode = 1;
  },
};
function checkLogLine(log: string): void {
  for (const [match] of log.matchAll(KEY_IN_TEXT)) {
    const vendor = /^([a-z][a-z0-9]{1,15})_(?:sk|pk)_/.exec(match)?.[1] ?? "";
    if (parseKey(match, vendor) || parseKey(match, "")) leakedLines.push(log.slice(0, 200));
  }
}

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
    onConsoleLog: (log: string) => checkLogLine(log),
    reporters: ["default", keyLogGuard],
    include: ["test/**/*.test.ts"],
    setupFiles: ["./test/setup.ts"],
  },
}));
