// `wrangler dev` on a free loopback port, on throwaway local state, and a way to run a CLI against it: the
// shared setup of the Node-side CLI tests (test/cli/*.test.mjs).
import assert from "node:assert/strict";
import { execFile, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");
const WRANGLER = join(ROOT, "node_modules/.bin/wrangler");
/** The environment the tests run wrangler and the CLIs in. */
export const TEST_ENV = { ...process.env, WRANGLER_SEND_METRICS: "false" };
/** How long `wrangler dev` may take to say it is ready (a cold start on a busy machine is slow). */
const DEV_START_TIMEOUT_MS = 90_000;

const freePort = () =>
  new Promise((res) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => res(port));
    });
  });

/**
 * Local state with the migrations applied, to copy for each server: `wrangler d1 migrations apply` starts a
 * runtime of its own (10 s and more here), so it runs once per set of migrations and wrangler version, and
 * the result is kept under node_modules/.cache for later runs.
 */
function migratedTemplate() {
  const hash = createHash("sha256").update(readFileSync(join(ROOT, "node_modules/wrangler/package.json")));
  const migrations = join(ROOT, "migrations");
  for (const name of readdirSync(migrations).sort()) hash.update(name).update(readFileSync(join(migrations, name)));
  const template = join(ROOT, "node_modules/.cache/authorizer-cli-state", hash.digest("hex").slice(0, 16));
  if (existsSync(template)) return template;
  mkdirSync(dirname(template), { recursive: true });
  const building = mkdtempSync(`${template}-`);
  const migrate = spawnSync(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", building], {
    cwd: ROOT,
    env: TEST_ENV,
  });
  assert.equal(migrate.status, 0, String(migrate.stderr));
  try {
    renameSync(building, template); // whole or not at all, even if another run builds it at the same time
  } catch {
    rmSync(building, { recursive: true, force: true });
  }
  return template;
}

/**
 * Starts the Worker with these vars on migrated throwaway state; resolves with its base URL, the state
 * folder (removed on stop, so a test may write scratch files there) and a stop function. `args` go to
 * `wrangler dev` as they are (the browser tests add --test-scheduled).
 * @example const server = await startDevServer({ ADMIN_TOKEN: token }); after(() => server.stop());
 */
export async function startDevServer(vars, { statePrefix = "authorizer-cli-", args = [] } = {}) {
  const state = mkdtempSync(join(tmpdir(), statePrefix));
  cpSync(migratedTemplate(), state, { recursive: true });
  const port = await freePort();
  // Its own inspector port too: two dev servers (test files run two at a time, or another checkout's tests)
  // would otherwise both take 9229, and the second fails to start.
  const inspectorPort = await freePort();
  const varArgs = Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const dev = spawn(
    WRANGLER,
    [
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      state,
      ...varArgs,
      ...args,
    ],
    {
      cwd: ROOT,
      env: TEST_ENV,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  await new Promise((res, rej) => {
    const timer = setTimeout(
      () => rej(new Error(`wrangler dev did not start within ${DEV_START_TIMEOUT_MS / 1000} s`)),
      DEV_START_TIMEOUT_MS,
    );
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
    state,
    stop() {
      dev.kill("SIGINT");
      rmSync(state, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `scripts/<script>` with node; resolves with its exit code and output, never rejects.
 * @example const { code, stdout } = await runScript("keys.mjs", ["list"], { ADMIN_TOKEN, AUTHORIZER_URL: base });
 */
export const runScript = (script, args, env = {}, cwd = ROOT, stdin = "") =>
  new Promise((res) => {
    const child = execFile(
      process.execPath,
      [join(ROOT, "scripts", script), ...args],
      { cwd, env: { ...TEST_ENV, ...env } },
      (error, stdout, stderr) => res({ code: error ? error.code : 0, stdout, stderr }),
    );
    // Always ended, so a script that reads stdin never waits on the test.
    child.stdin.end(stdin);
  });
