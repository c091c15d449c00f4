// `npm run leaks -- ingest` and `npm run scan -- --report/--revoke` against a running local Worker.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { generateKey } from "../../src/keys/format.ts";
import { ROOT, runScript, startDevServer } from "./dev-server.mjs";

const TOKEN = `leaks-cli-${crypto.randomUUID()}`;
let server;
let dir;

before(async () => {
  server = await startDevServer({ ADMIN_TOKEN: TOKEN }, { statePrefix: "authorizer-leaks-cli-" });
  dir = mkdtempSync(join(tmpdir(), "leaks-cli-"));
});
after(() => {
  server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs a script; resolves with its exit code and output, never rejects. */
const run = (script, args, cwd = ROOT) =>
  runScript(script, args, { ADMIN_TOKEN: TOKEN, AUTHORIZER_URL: server.base }, cwd);

async function mint() {
  const response = await fetch(`${server.base}/admin/v1/keys`, {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ owner_id: "cli-leaks" }),
  });
  assert.equal(response.status, 201);
  const body = await response.json();
  return { apiKey: body.api_key, id: body.key.id };
}

/** 503 means authorized (no origin is configured for this Worker); 401 refused. */
const gatewayStatus = async (apiKey) =>
  (await fetch(`${server.base}/api/v1/x`, { headers: { "X-API-Key": apiKey } })).status;

describe("npm run leaks -- ingest", () => {
  it("revokes the live keys of a gitleaks report and prints one line per key finding", async () => {
    const leaked = await mint();
    const report = join(dir, "report.json");
    writeFileSync(
      report,
      JSON.stringify([
        {
          RuleID: "edge-key-authorizer-sk-live",
          Secret: leaked.apiKey,
          File: ".env",
          StartLine: 3,
          Commit: "abc",
          Fingerprint: "abc:.env:edge-key-authorizer-sk-live:3",
          Link: "",
        },
        {
          RuleID: "generic-api-key",
          Secret: "REDACTED",
          File: "x",
          StartLine: 1,
          Fingerprint: "abc:x:generic-api-key:1",
        },
        {
          RuleID: "edge-key-authorizer-sk-live",
          Secret: generateKey("", "secret", "live"),
          File: "y",
          StartLine: 1,
          Fingerprint: "abc:y:r:1",
        },
      ]),
    );
    assert.equal(await gatewayStatus(leaked.apiKey), 503);
    const result = await run("leaks.mjs", ["ingest", report]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^finding 0: revoked ${leaked.id}$`, "m"));
    assert.match(result.stdout, /^finding 2: no_match$/m);
    assert.match(result.stdout, /3 finding\(s\): revoked 1, no_match 1, not_a_key 1/);
    assert.equal(await gatewayStatus(leaked.apiKey), 401);

    const again = await run("leaks.mjs", ["ingest", report]);
    assert.match(again.stdout, /finding 0: revoked \(already reported\)/);
  });

  it("ingests truffleHog's JSON lines with --format trufflehog", async () => {
    const leaked = await mint();
    const results = join(dir, "results.jsonl");
    const line = (raw, file) =>
      JSON.stringify({
        SourceMetadata: { Data: { Filesystem: { file, line: 2 } } },
        DetectorName: "EdgeKeyAuthorizer_sk_live",
        Verified: true,
        Raw: raw,
      });
    writeFileSync(results, `${line(leaked.apiKey, "a.env")}\n${line("not-ours", "b")}\n`);
    const result = await run("leaks.mjs", ["ingest", "--format", "trufflehog", results]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /2 finding\(s\): revoked 1, not_a_key 1/);
    assert.equal(await gatewayStatus(leaked.apiKey), 401);
  });

  it("fails with the problem and a non-zero exit on a report the API refuses", async () => {
    const garbage = join(dir, "garbage.json");
    writeFileSync(garbage, JSON.stringify([{ Secret: 12 }]));
    const result = await run("leaks.mjs", ["ingest", garbage]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /400 invalid_request.*\n\s+0\.Secret:/);
    assert.equal((await run("leaks.mjs", ["ingest", join(dir, "missing.json")])).code, 1);
  });
});

describe("npm run scan -- --report", () => {
  it("reports hashes and locations (recorded), then revokes with --revoke", async () => {
    const found = await mint();
    const project = mkdtempSync(join(dir, "project-"));
    writeFileSync(join(project, "settings.py"), `API_KEY = "${found.apiKey}"\n`);

    const reported = await run("scan.mjs", ["--vendor", "", "--report"], project);
    assert.equal(reported.code, 1, reported.stderr);
    assert.match(reported.stderr, /Reported to the authorizer: recorded 1/);
    assert.equal(await gatewayStatus(found.apiKey), 503, "recorded, not revoked");

    const revoked = await run("scan.mjs", ["--vendor", "", "--report", "--revoke"], project);
    assert.equal(revoked.code, 1);
    assert.match(revoked.stderr, /Reported to the authorizer: revoked 1/);
    assert.equal(await gatewayStatus(found.apiKey), 401);
    assert.ok(!reported.stdout.includes(found.apiKey) && !revoked.stderr.includes(found.apiKey));
  });
});
