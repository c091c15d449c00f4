// The CLI against a running local Worker: `wrangler dev` on a free loopback port, on throwaway local state.
// Runs with node's test runner (the CLI is a Node program, not Worker code).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { ROOT, runScript, startDevServer, TEST_ENV } from "./dev-server.mjs";

const TOKEN = `cli-test-${crypto.randomUUID()}`;

let server;
let base;

/** Runs the CLI; resolves with its exit code and output, never rejects. */
const cli = (args, extraEnv = {}) =>
  runScript("keys.mjs", args, { ADMIN_TOKEN: TOKEN, AUTHORIZER_URL: base, ...extraEnv });

const cliJson = async (args) => {
  const result = await cli([...args, "--json"]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
};

before(async () => {
  server = await startDevServer({ ADMIN_TOKEN: TOKEN });
  base = server.base;
});

after(() => server?.stop());

describe("npm run keys", () => {
  it("creates a key, shows it once with a warning, and the key works at the gateway", async () => {
    const result = await cli(["create", "--owner", "cli-team", "--name", "from the cli", "--scopes", "read,write"]);
    assert.equal(result.code, 0, result.stderr);
    const key = /\b(sk_live_[0-9A-Za-z]{49})\b/.exec(result.stdout)?.[1];
    assert.ok(key, "the key is printed");
    assert.match(result.stdout, /only time the key is shown/);
    assert.match(result.stdout, /cli-team/);
    // No origin is configured for this Worker, so an authorized request reaches the forwarding step (503).
    const through = await fetch(`${base}/api/v1/x`, { headers: { "X-API-Key": key } });
    assert.equal(through.status, 503);
  });

  it("lists, gets, updates, disables, enables, rotates, revokes and audits", async () => {
    const created = await cliJson(["create", "--owner", "cli-flow"]);
    const id = created.key.id;
    const listed = await cliJson(["list", "--owner", "cli-flow"]);
    assert.deepEqual(
      listed.keys.map((k) => k.id),
      [id],
    );
    const table = await cli(["list", "--owner", "cli-flow"]);
    assert.match(table.stdout, new RegExp(`^${id}\\s+active\\s+secret`, "m"));

    assert.equal((await cliJson(["get", id])).owner_id, "cli-flow");
    assert.deepEqual((await cliJson(["update", id, "--scopes", "read,write", "--name", "renamed"])).scopes, [
      "read",
      "write",
    ]);
    assert.equal((await cliJson(["disable", id])).status, "disabled");
    assert.equal((await cliJson(["enable", id])).status, "active");

    const rotated = await cliJson(["rotate", id, "--grace-hours", "0"]);
    assert.equal(rotated.previous.id, id);
    const successor = rotated.key.id;
    const revoked = await cliJson(["revoke", successor, "--reason", "test over"]);
    assert.equal(revoked.status, "revoked");
    const refused = await fetch(`${base}/api/v1/x`, { headers: { "X-API-Key": rotated.api_key } });
    assert.equal(refused.status, 401);
    assert.equal((await refused.json()).code, "key_revoked");

    const audit = await cliJson(["audit", "--key", id]);
    assert.deepEqual(
      audit.entries.map((e) => e.action),
      ["rotate", "enable", "disable", "update", "create"],
    );
  });

  it("list --search finds keys by a part of the name, the hint or the id; consumers keys --search too", async () => {
    const deploys = await cliJson(["create", "--owner", "cli-search", "--name", "CI deploys"]);
    const backups = await cliJson(["create", "--owner", "cli-search", "--name", "100% backups"]);
    const ids = async (args) => (await cliJson(args)).keys.map((k) => k.id);
    assert.deepEqual(await ids(["list", "--owner", "cli-search", "--search", "DEPLOY"]), [deploys.key.id]);
    assert.deepEqual(await ids(["list", "--owner", "cli-search", "--search", "%"]), [backups.key.id]);
    assert.deepEqual(await ids(["list", "--search", backups.key.id]), [backups.key.id]);
    assert.deepEqual(await ids(["list", "--owner", "cli-search", "--search", deploys.api_key.slice(-4)]), [
      deploys.key.id,
    ]);
    assert.deepEqual(await ids(["consumers", "keys", "cli-search", "--search", "backup"]), [backups.key.id]);
    const table = await cli(["list", "--owner", "cli-search", "--search", "deploys"]);
    assert.match(table.stdout, new RegExp(`^${deploys.key.id}\\s+active`, "m"));
    assert.doesNotMatch(table.stdout, new RegExp(backups.key.id));
  });

  it("consumers: creates, lists, gets, updates, lists its keys and deletes, as tables and --json", async () => {
    const policy = JSON.stringify({ max_active_keys: 1, allowed_scopes: ["read"] });
    const limits = JSON.stringify([{ name: "day", limit: 5000, window_seconds: 86400 }]);
    const created = await cliJson([
      "consumers",
      "create",
      "cli-co",
      "--name",
      "CLI Co",
      "--limits",
      limits,
      "--policy",
      policy,
    ]);
    assert.deepEqual(created.key_policy, { max_active_keys: 1, allowed_scopes: ["read"] });
    assert.equal(created.status, "active");

    const shown = await cli(["consumers", "get", "cli-co"]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^id\s+status\s+name\s+rate_limits\s+key_policy/m);
    assert.match(shown.stdout, /cli-co\s+active\s+CLI Co\s+day=5000\/86400s\s+max_active_keys=1 allowed_scopes=read/);
    assert.deepEqual(
      (await cliJson(["consumers", "list", "--id", "cli-co"])).consumers.map((c) => c.id),
      ["cli-co"],
    );
    const listed = await cli(["consumers", "list", "--status", "active"]);
    assert.match(listed.stdout, /^cli-co\s+active/m);

    // The policy holds: a second key is refused with its reason, and the CLI says so.
    const key = await cliJson(["create", "--owner", "cli-co"]);
    const refused = await cli(["create", "--owner", "cli-co"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /409 key_policy_violation/);

    const updated = await cliJson(["consumers", "update", "cli-co", "--name", "Renamed", "--policy", "{}"]);
    assert.equal(updated.name, "Renamed");
    assert.deepEqual(updated.key_policy, {});
    assert.equal(updated.version, 2);

    const keys = await cliJson(["consumers", "keys", "cli-co"]);
    assert.deepEqual(
      keys.keys.map((k) => k.id),
      [key.key.id],
    );
    const keysTable = await cli(["consumers", "keys", "cli-co"]);
    assert.match(keysTable.stdout, new RegExp(`^${key.key.id}\\s+active\\s+secret`, "m"));

    const notYet = await cli(["consumers", "delete", "cli-co"]);
    assert.equal(notYet.code, 1);
    assert.match(notYet.stderr, /409 consumer_has_keys/);
    await cliJson(["revoke", key.key.id]);
    assert.equal((await cliJson(["consumers", "delete", "cli-co"])).status, "deleted");

    const trail = await cliJson(["audit", "--consumer", "cli-co"]);
    assert.deepEqual(
      trail.entries.map((e) => `${e.subject_type} ${e.action}`),
      ["consumer delete", "key revoke", "consumer update", "key create", "consumer create"],
    );
  });

  it("consumers: disables, enables and revokes every key of a consumer", async () => {
    await cliJson(["consumers", "create", "cli-ops"]);
    const key = await cliJson(["create", "--owner", "cli-ops"]);
    assert.equal((await cliJson(["consumers", "disable", "cli-ops"])).status, "disabled");
    assert.equal((await cliJson(["consumers", "enable", "cli-ops"])).status, "active");
    const revoked = await cliJson(["consumers", "revoke-keys", "cli-ops", "--reason", "account closed"]);
    assert.equal(typeof revoked.keys_revoked_before, "string");
    assert.equal(revoked.revoke_progress.total, 1);
    const shown = await cli(["consumers", "get", "cli-ops"]);
    assert.match(shown.stdout, /revoke_progress/);
    assert.match(shown.stdout, /(1 of 1 left|done \d{4}-)/);
    const trail = await cliJson(["audit", "--consumer", "cli-ops"]);
    assert.ok(trail.entries.some((e) => e.subject_type === "consumer" && e.action === "revoke_keys"));
    assert.ok(key.key.id.startsWith("key_"));
  });

  it("credentials: mints one shown once, which then works in place of the admin token within its permissions, and revokes it", async () => {
    const minted = await cli([
      "credentials",
      "create",
      "--name",
      "ci job",
      "--operations",
      "keys:read,keys:create",
      "--consumers",
      "cli-ci",
      "--expires-in-days",
      "7",
    ]);
    assert.equal(minted.code, 0, minted.stderr);
    const secret = /\b(ak_[0-9A-Za-z]{49})\b/.exec(minted.stdout)?.[1];
    assert.ok(secret, "the credential is printed");
    assert.match(minted.stdout, /only time the credential is shown/);
    const asCredential = (args) => cli([...args, "--json"], { ADMIN_TOKEN: secret });
    const created = await asCredential(["create", "--owner", "cli-ci"]);
    assert.equal(created.code, 0, created.stderr);
    const denied = await asCredential(["audit"]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /403|forbidden_operation/);
    const [listed] = (await cliJson(["credentials", "list"])).credentials.filter((c) => c.name === "ci job");
    assert.deepEqual(listed.consumers, ["cli-ci"]);
    assert.equal((await cliJson(["credentials", "revoke", listed.id, "--reason", "job removed"])).status, "revoked");
    const after = await asCredential(["list"]);
    assert.notEqual(after.code, 0);
    assert.match(after.stderr, /401|admin_unauthorized/);
  });

  it("check reads the key from stdin and answers without spending; --expires-in-seconds mints a short-lived key", async () => {
    const short = await cliJson([
      "create",
      "--owner",
      "cli-check",
      "--expires-in-seconds",
      "600",
      "--limits",
      '[{"name":"minute","limit":5,"window_seconds":60}]',
    ]);
    assert.equal(Date.parse(short.key.expires_at) - Date.parse(short.key.created_at), 600_000);
    const run = (stdin, args = []) =>
      runScript("keys.mjs", ["check", ...args], { ADMIN_TOKEN: TOKEN, AUTHORIZER_URL: base }, ROOT, stdin);
    for (let i = 0; i < 3; i++) {
      const checked = await run(`${short.api_key}\n`);
      assert.equal(checked.code, 0, checked.stderr);
      assert.match(checked.stdout, /valid: the gateway would admit it/);
      assert.match(checked.stdout, /minute=5\/5/);
      assert.ok(!checked.stdout.includes(short.api_key), "the key is not echoed");
    }
    const revoked = await cliJson(["revoke", short.key.id]);
    assert.equal(revoked.status, "revoked");
    assert.match((await run(short.api_key)).stdout, /refused: key_revoked/);
    const empty = await run("");
    assert.notEqual(empty.code, 0);
    assert.match(empty.stderr, /no key on stdin/);
  });

  it("consumers: refuses what it cannot send, with a non-zero exit", async () => {
    for (const args of [
      ["consumers", "get", ".."],
      ["consumers", "keys", "."],
      ["consumers", "delete", ".."],
    ]) {
      const result = await cli(args);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /cannot be sent in a path: use `consumers list --id/);
    }
    const noSub = await cli(["consumers"]);
    assert.equal(noSub.code, 1);
    assert.match(noSub.stderr, /consumers needs one of: create, list, get, update, keys, delete/);
    const missing = await cli(["consumers", "get", "no-such-consumer"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /404 consumer_not_found/);
    const badPolicy = await cli(["consumers", "create", "x", "--policy", "{not json"]);
    assert.match(badPolicy.stderr, /--policy must be JSON/);
    const exists = await cli(["consumers", "create", "cli-dup"]);
    assert.equal(exists.code, 0, exists.stderr);
    assert.match((await cli(["consumers", "create", "cli-dup"])).stderr, /409 consumer_exists/);
  });

  it("is what `npm run keys` runs", () => {
    const result = spawnSync("npm", ["run", "--silent", "keys", "--", "list", "--json"], {
      cwd: ROOT,
      env: { ...TEST_ENV, ADMIN_TOKEN: TOKEN, AUTHORIZER_URL: base },
      encoding: "utf8",
    });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(Array.isArray(JSON.parse(result.stdout).keys));
  });

  it("fails clearly, with a non-zero exit, on every kind of error", async () => {
    const missing = await cli(["get", "key_AAAAAAAAAAAAAAAAAAAAAA"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /404 key_not_found/);

    const invalid = await cli(["create", "--owner", "x", "--scopes", "Not Valid"]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /400 invalid_request.*\n\s+scopes\.0:/);

    const badToken = await cli(["list"], { ADMIN_TOKEN: "wrong" });
    assert.equal(badToken.code, 1);
    assert.match(badToken.stderr, /401 admin_unauthorized/);

    const unknown = await cli(["explode"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Unknown command "explode"/);

    const badFlag = await cli(["list", "--frobnicate"]);
    assert.equal(badFlag.code, 1);

    const down = await cli(["list"], { AUTHORIZER_URL: "http://127.0.0.1:9" });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /Cannot reach/);
  });
});
