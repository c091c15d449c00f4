// `npm run report` against a running local Worker (`wrangler dev` on a free loopback port, throwaway state):
// the report it prints is the Worker's, computed from what this test created through the admin API.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runScript, startDevServer } from "./dev-server.mjs";

const TOKEN = `report-cli-test-${crypto.randomUUID()}`;

let server;

/** Runs the CLI; resolves with its exit code and output, never rejects. */
const cli = (args, extraEnv = {}) =>
  runScript("report.mjs", args, { ADMIN_TOKEN: TOKEN, AUTHORIZER_URL: server.base, ...extraEnv });

before(async () => {
  server = await startDevServer(
    { ADMIN_TOKEN: TOKEN, PLATFORM_NAME: "Report CLI Platform" },
    { statePrefix: "authorizer-report-" },
  );
  for (const days of [365, 7]) {
    const response = await fetch(`${server.base}/admin/v1/keys`, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ owner_id: "report-cli", expires_in_days: days }),
    });
    assert.equal(response.status, 201);
  }
});

after(() => server?.stop());

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
    const out = join(server.state, "report.json");
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
