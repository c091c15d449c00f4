// `wrangler dev` on a free loopback port, on throwaway local state, for the CLI tests.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");
const WRANGLER = join(ROOT, "node_modules/.bin/wrangler");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };

const freePort = () =>
  new Promise((res) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => res(port));
    });
  });

/** Starts the Worker with these extra vars; resolves with its base URL and a stop function. */
export async function startDevServer(vars) {
  const state = mkdtempSync(join(tmpdir(), "authorizer-leaks-cli-"));
  const migrate = spawnSync(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { cwd: ROOT, env });
  assert.equal(migrate.status, 0, String(migrate.stderr));
  const port = await freePort();
  const varArgs = Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const dev = spawn(WRANGLER, ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state, ...varArgs], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error("wrangler dev did not start within 90 s")), 90_000);
    dev.stdout.on("data", (chunk) => {
      if (String(chunk).includes("Ready on")) {
        clearTimeout(timer);
        res();
      }
    });
    dev.on("exit", (code) => rej(new Error(`wrangler dev exited with ${code}`)));
  });
  return {
    base: `http://127.0.0.1:${port}`,
    stop() {
      dev.kill("SIGINT");
      rmSync(state, { recursive: true, force: true });
    },
  };
}
