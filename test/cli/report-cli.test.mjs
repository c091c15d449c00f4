// `npm run report` against a running local Worker (`wrangler dev` on a free loopback port, throwaway state):
// the report it prints is the Worker's, computed from what this test created through the admin API.
import assert from "node:assert/strict";
import { execFile, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";

const ROOT = resolve(import.meta.dirname, "../..");
const WRANGLER = join(ROOT, "node_modules/.bin/wrangler");
const CLI = join(ROOT, "scripts/report.mjs");
const TOKEN = `report-cli-test-${crypto.randomUUID()}`;
const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };

let dev;
let base;
let state;

const freePort = () =>
  new Promise((res) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => res(port));
    });
  });

/** Runs the CLI; resolves with its exit code and output, never rejects. */
const cli = (args, extraEnv = {}) =>
  new Promise((res) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...env, ADMIN_TOKEN: TOKEN, AUTHORIZER_URL: base, ...extraEnv } }, (error, stdout, stderr) =>
      res({ code: error ? error.code : 0, stdout, stderr }),
    );
  });

before(async () => {
  state = mkdtempSync(join(tmpdir(), "authorizer-report-"));
  const migrate = spawnSync(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { cwd: ROOT, env });
  assert.equal(migrate.status, 0, String(migrate.stderr));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const vars = ["--var", `ADMIN_TOKEN:${TOKEN}`, "--var", "PLATFORM_NAME:Report CLI Platform"];
  dev = spawn(WRANGLER, ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state, ...vars], {
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
  for (const days of [365, 7]) {
    const response = await fetch(`${base}/admin/v1/keys`, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ owner_id: "report-cli", expires_in_days: days }),
    });
    assert.equal(response.status, 201);
  }
});

after(() => {
  dev?.kill("SIGINT");
  rmSync(state, { recursive: true, force: true });
});

describe("npm run report", () => {
  it("prints the Markdown report with the Worker's live figures", async () => {
    const result = await cli([]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.split("\n")[0], "# API Key Security Implementation Report");
    assert.match(result.stdout, /\*\*Platform:\*\* Report CLI Platform/);
    assert.match(result.stdout, /- Active keys: \*\*2\*\*/);
    assert.match(result.stdout, /- Keys expiring in the next 30 days: \*\*1\*\*/);
  });

  it("--json gives the same data, and --out writes it to a file", async () => {
    const out = join(state, "report.json");
    const result = await cli(["--json", "--out", out]);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(readFileSync(out, "utf8"));
    assert.equal(report.active_keys, 2);
    assert.equal(report.expiring_keys.count, 1);
    assert.equal(report.platform, "Report CLI Platform");
  });

  it("a wrong token fails with the API's code and exit status 1", async () => {
    const result = await cli([], { ADMIN_TOKEN: "not-the-token" });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /401 admin_unauthorized/);
    assert.equal(result.stdout, "");
  });
});
