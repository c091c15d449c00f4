// `npm run keys -- create|rotate --vault …` and `vault-status` against a running local Worker and a local
// stand-in of Vault's KV v2 HTTP API (./kv-v2-stand-in.mjs): the key goes to Vault and never to the
// terminal, with check-and-set, and a key Vault did not take is revoked at once.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { runScript, startDevServer } from "./dev-server.mjs";
import { startKvStandIn } from "./kv-v2-stand-in.mjs";

const TOKEN = `vault-cli-test-${crypto.randomUUID()}`;
const VAULT_TOKEN = `hvs.vault-cli-test-${crypto.randomUUID()}`;
const SECRET_SHAPE = /\b[a-z]{2}_(live|test)_[0-9A-Za-z]{20,}/;

let server;
let vault;

/** Runs the keys CLI with Vault's variables set for the stand-in; resolves with its exit code and output. */
const cli = (args, extraEnv = {}) =>
  runScript("keys.mjs", args, {
    ADMIN_TOKEN: TOKEN,
    AUTHORIZER_URL: server.base,
    VAULT_ADDR: vault.addr,
    VAULT_TOKEN,
    ...extraEnv,
  });

const cliJson = async (args) => {
  const result = await cli([...args, "--json"]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
};

/** Neither a key, nor the stored secret, nor the Vault token in what the CLI printed. */
function assertNoSecret(result, apiKey) {
  for (const stream of [result.stdout, result.stderr]) {
    assert.doesNotMatch(stream, SECRET_SHAPE);
    if (apiKey) assert.ok(!stream.includes(apiKey), "the stored key is not printed");
    assert.ok(!stream.includes(VAULT_TOKEN), "the Vault token is not printed");
  }
}

/** The keys of an owner, as the admin API lists them. */
const keysOf = async (owner) => (await cliJson(["list", "--owner", owner])).keys;

/** The stand-in's requests since `from`, as "METHOD path". */
const requestsSince = (from) => vault.requests.slice(from).map((r) => `${r.method} ${r.path}`);

before(async () => {
  [server, vault] = await Promise.all([
    startDevServer({ ADMIN_TOKEN: TOKEN }, { statePrefix: "authorizer-vault-" }),
    startKvStandIn({ token: VAULT_TOKEN, mounts: ["kv", "teams/kv"], v1Mounts: ["old"] }),
  ]);
});

after(async () => {
  server?.stop();
  await vault?.stop();
});

describe("create --vault", () => {
  it("stores { key_id, api_key } with check-and-set, prints no secret, and labels the audit row", async () => {
    const from = vault.requests.length;
    const result = await cli(["create", "--owner", "vault-a", "--name", "payments", "--vault", "kv/data/team-a/pay"]);
    assert.equal(result.code, 0, result.stderr);
    const stored = vault.secret("kv", "team-a/pay");
    assert.deepEqual(Object.keys(stored).sort(), ["api_key", "key_id"]);
    assert.match(stored.api_key, /^sk_live_/);
    assertNoSecret(result, stored.api_key);
    assert.match(
      result.stdout,
      /Stored in Vault at kv\/data\/team-a\/pay \(version 1\)\. The secret was not printed\./,
    );
    assert.match(
      result.stdout,
      new RegExp(`^${stored.key_id}\\s+active\\s+secret\\s+live\\s+vault-a\\s+payments`, "m"),
    );

    // Metadata first (no secret yet: cas 0), then the write naming that version, with the token.
    assert.deepEqual(requestsSince(from), ["GET /v1/kv/metadata/team-a/pay", "POST /v1/kv/data/team-a/pay"]);
    const write = vault.requests.at(-1);
    assert.deepEqual(JSON.parse(write.body).options, { cas: 0 });
    assert.equal(write.headers["x-vault-token"], VAULT_TOKEN);
    assert.equal(write.headers["x-vault-namespace"], undefined);

    // The key in Vault is the key minted, and it works.
    const [key] = await keysOf("vault-a");
    assert.equal(key.id, stored.key_id);
    const through = await fetch(`${server.base}/api/v1/x`, { headers: { "X-API-Key": stored.api_key } });
    assert.equal(through.status, 503); // authorized: no origin is configured, so it stops at forwarding
    const audit = await cliJson(["audit", "--key", key.id]);
    assert.equal(audit.entries[0].changes.secret_store, "vault");
  });

  it("a second write to a path names the version it read, and --json holds no secret", async () => {
    assert.equal((await cli(["create", "--owner", "vault-b", "--vault", "teams/kv/data/b"])).code, 0);
    const first = vault.secret("teams/kv", "b");
    const result = await cli(["create", "--owner", "vault-b", "--vault", "teams/kv/data/b", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const answer = JSON.parse(result.stdout);
    assert.deepEqual(answer.vault, { path: "teams/kv/data/b", version: 2 });
    assert.equal(answer.api_key, undefined);
    assert.deepEqual(JSON.parse(vault.requests.at(-1).body).options, { cas: 1 });
    assert.equal(vault.secret("teams/kv", "b").key_id, answer.key.id);
    assert.notEqual(answer.key.id, first.key_id);
    assertNoSecret(result, vault.secret("teams/kv", "b").api_key);
  });

  it("a concurrent writer is not overwritten: the minted key is revoked and the command fails", async () => {
    // Another client writes between this CLI's metadata read and its write.
    vault.after("metadata", () => vault.put("kv", "race", { written_by: "someone else" }));
    const result = await cli(["create", "--owner", "vault-race", "--vault", "kv/data/race"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /was not stored in Vault, and is revoked: someone else wrote kv\/data\/race/);
    assert.match(result.stderr, /check-and-set refused the write; nothing was overwritten/);
    assertNoSecret(result);
    assert.equal(result.stdout, "");
    assert.deepEqual(vault.secret("kv", "race"), { written_by: "someone else" });
    const keys = await keysOf("vault-race");
    assert.deepEqual(
      keys.map((k) => k.status),
      ["revoked"],
    );
    assert.match(result.stderr, new RegExp(`The new key ${keys[0].id} `));
    assert.equal((await cliJson(["get", keys[0].id])).revoke_reason, "not stored in Vault: the write failed");
  });

  it("Vault going down after the mint: the key is revoked and the command fails", async () => {
    vault.after("metadata", () => vault.setDown(true));
    try {
      const result = await cli(["create", "--owner", "vault-down", "--vault", "kv/data/down"]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /is revoked: Vault refused to write kv\/data\/down \(503: Vault is sealed\)/);
      assertNoSecret(result);
    } finally {
      vault.setDown(false);
    }
    assert.equal(vault.secret("kv", "down"), undefined);
    assert.deepEqual(
      (await keysOf("vault-down")).map((k) => k.status),
      ["revoked"],
    );
  });

  it("a KV version 1 mount (no version, no check-and-set) is a failed write: the key is revoked", async () => {
    const result = await cli(["create", "--owner", "vault-v1", "--vault", "old/data/x"]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /is revoked: Vault stored old\/data\/x without a version: is old a KV version 2 mount\?/,
    );
    assertNoSecret(result);
    assert.deepEqual(
      (await keysOf("vault-v1")).map((k) => k.status),
      ["revoked"],
    );
  });

  it("Vault unreachable, refusing, or badly named: nothing is minted", async () => {
    const cases = [
      [{ VAULT_ADDR: "http://127.0.0.1:9" }, ["--vault", "kv/data/x"], /Cannot reach Vault at http:\/\/127\.0\.0\.1:9/],
      [
        { VAULT_TOKEN: "hvs.wrong" },
        ["--vault", "kv/data/x"],
        /Vault refused to read the metadata of kv\/data\/x \(403: permission denied\)/,
      ],
      [
        {},
        ["--vault", "nomount/data/x"],
        /Vault refused to read the metadata of nomount\/data\/x \(404: no handler for route/,
      ],
      [{ VAULT_ADDR: "" }, ["--vault", "kv/data/x"], /--vault needs VAULT_ADDR/],
      [{ VAULT_TOKEN: "" }, ["--vault", "kv/data/x"], /--vault needs VAULT_TOKEN/],
      [{ VAULT_ADDR: "http://vault.example.com:8200" }, ["--vault", "kv/data/x"], /must be https:\/\//],
      [{}, ["--vault", "kv/team/x"], /"kv\/team\/x" is not a KV v2 data path like kv\/data\/team-a\/payments/],
      [{}, ["--vault", "kv/data/../sys/x"], /is not a KV v2 data path/],
      [{}, ["--vault", "kv/data/"], /is not a KV v2 data path/],
    ];
    for (const [env, args, message] of cases) {
      const result = await cli(["create", "--owner", "vault-none", ...args], env);
      assert.equal(result.code, 1, `${JSON.stringify(env)} ${args}`);
      assert.match(result.stderr, message);
      assertNoSecret(result);
    }
    assert.deepEqual(await keysOf("vault-none"), []);
    const notHere = await cli(["list", "--vault", "kv/data/x"]);
    assert.match(notHere.stderr, /--vault is for create and rotate/);
  });

  it("sends X-Vault-Namespace when VAULT_NAMESPACE is set, and a token of a namespace needs it", async () => {
    const namespaced = await startKvStandIn({ token: VAULT_TOKEN, namespace: "team-a/" });
    try {
      const env = { VAULT_ADDR: namespaced.addr, VAULT_NAMESPACE: "team-a/" };
      const result = await cli(["create", "--owner", "vault-ns", "--vault", "kv/data/app"], env);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(namespaced.requests.length, 2);
      for (const r of namespaced.requests) assert.equal(r.headers["x-vault-namespace"], "team-a/");
      assert.equal(namespaced.secret("kv", "app").key_id, (await keysOf("vault-ns"))[0].id);

      const without = await cli(["create", "--owner", "vault-ns", "--vault", "kv/data/app"], {
        VAULT_ADDR: namespaced.addr,
      });
      assert.equal(without.code, 1);
      assert.match(without.stderr, /403: permission denied/);
      assert.equal((await keysOf("vault-ns")).length, 1, "nothing minted");
    } finally {
      await namespaced.stop();
    }
  });
});

describe("rotate --vault", () => {
  /** A key created into Vault at kv/data/<path>: its id and secret, as the stand-in holds them. */
  const keyInVault = async (owner, path) => {
    const result = await cli(["create", "--owner", owner, "--vault", `kv/data/${path}`]);
    assert.equal(result.code, 0, result.stderr);
    return vault.secret("kv", path);
  };
  const gatewayStatus = async (apiKey) =>
    (await fetch(`${server.base}/api/v1/x`, { headers: { "X-API-Key": apiKey } })).status;

  it("writes the successor with check-and-set, then starts the old key's grace, printing no secret", async () => {
    const old = await keyInVault("vr-a", "rot/a");
    const from = vault.requests.length;
    const result = await cli(["rotate", old.key_id, "--grace-hours", "2", "--vault", "kv/data/rot/a"]);
    assert.equal(result.code, 0, result.stderr);
    const now = vault.secret("kv", "rot/a");
    assert.notEqual(now.key_id, old.key_id);
    assertNoSecret(result, now.api_key);
    assert.ok(!result.stdout.includes(old.api_key));
    assert.deepEqual(requestsSince(from), ["GET /v1/kv/metadata/rot/a", "POST /v1/kv/data/rot/a"]);
    assert.deepEqual(JSON.parse(vault.requests.at(-1).body).options, { cas: 1 });
    assert.match(result.stdout, /Stored in Vault at kv\/data\/rot\/a \(version 2\)\. The secret was not printed\./);

    const previous = await cliJson(["get", old.key_id]);
    assert.equal(previous.rotated_to, now.key_id);
    const graceMs = Date.parse(previous.grace_until) - Date.now();
    assert.ok(graceMs > 1.9 * 3600_000 && graceMs <= 2 * 3600_000, `grace ends in 2 hours, not ${graceMs} ms`);
    assert.match(
      result.stdout,
      new RegExp(`The previous key ${old.key_id} keeps working until ${previous.grace_until}\\.`),
    );
    const trail = await cliJson(["audit", "--key", old.key_id]);
    assert.deepEqual(
      trail.entries.map((e) => e.action),
      ["start_grace", "rotate", "create"],
    );
    assert.equal(trail.entries[1].changes.secret_store, "vault");
    assert.equal(await gatewayStatus(old.api_key), 503); // both work during the grace period
    assert.equal(await gatewayStatus(now.api_key), 503);
  });

  for (const [failure, arrange, message] of [
    [
      "a concurrent writer",
      (path) => vault.after("metadata", () => vault.put("kv", path, { written_by: "someone else" })),
      /is revoked: someone else wrote kv\/data\/rot\/[a-z-]+ after it was read/,
    ],
    [
      "Vault going down",
      () => vault.after("metadata", () => vault.setDown(true)),
      /is revoked: Vault refused to write .*503/,
    ],
  ]) {
    it(`${failure}: the successor is revoked, the old key's grace never starts, and it rotates again`, async () => {
      const path = `rot/${failure.replaceAll(" ", "-")}`;
      const old = await keyInVault("vr-fail", path);
      arrange(path);
      let result;
      try {
        result = await cli(["rotate", old.key_id, "--vault", `kv/data/${path}`]);
      } finally {
        vault.setDown(false);
      }
      assert.equal(result.code, 1);
      assert.match(result.stderr, message);
      assertNoSecret(result, old.api_key);
      const successor = /The new key (key_[0-9A-Za-z]{22}) /.exec(result.stderr)?.[1];
      assert.equal((await cliJson(["get", successor])).status, "revoked");
      const previous = await cliJson(["get", old.key_id]);
      assert.equal(previous.status, "active");
      assert.equal(previous.grace_until, null, "no grace end: the old key stays current");
      assert.equal(await gatewayStatus(old.api_key), 503);

      const again = await cli(["rotate", old.key_id, "--vault", `kv/data/${path}`]);
      assert.equal(again.code, 0, again.stderr);
      assert.notEqual(vault.secret("kv", path).key_id, old.key_id);
      assert.notEqual((await cliJson(["get", old.key_id])).grace_until, null);
    });
  }
});

describe("vault-status", () => {
  it("reports which key each path holds and whether it is active, in its grace period, revoked or expired", async () => {
    const put = async (path, owner) => {
      const result = await cli(["create", "--owner", owner, "--vault", `kv/data/status/${path}`]);
      assert.equal(result.code, 0, result.stderr);
      return vault.secret("kv", `status/${path}`).key_id;
    };
    const active = await put("active", "vs-active");
    const graced = await put("grace", "vs-grace");
    const revoked = await put("revoked", "vs-revoked");
    const expired = await put("expired", "vs-expired");
    const deferred = await put("rotating", "vs-rotating");
    // Rotated without --vault: the paths still hold the old keys.
    const rotated = await cliJson(["rotate", graced, "--grace-hours", "2"]);
    await cliJson(["revoke", revoked]);
    await cliJson(["rotate", expired, "--grace-hours", "0"]);
    // A rotation in steps stopped half-way (as a secret manager's would be before its new value is current).
    const halfway = await fetch(`${server.base}/admin/v1/keys/${deferred}/rotate`, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ defer_grace: true }),
    });
    assert.equal(halfway.status, 201);
    const successorOfDeferred = (await halfway.json()).key.id;
    vault.put("kv", "status/foreign", { username: "not a key" });

    const paths = ["active", "grace", "revoked", "expired", "rotating", "foreign", "never"].map(
      (p) => `kv/data/status/${p}`,
    );
    const from = vault.requests.length;
    const result = await cli(["vault-status", ...paths]);
    assert.equal(result.code, 1, "not every path holds a current key");
    assertNoSecret(result, vault.secret("kv", "status/active").api_key);
    const line = (path) => result.stdout.split("\n").find((l) => l.startsWith(`kv/data/status/${path} `));
    assert.match(line("active"), new RegExp(`^kv/data/status/active\\s+1\\s+${active}\\s+active\\s+expires 20`));
    assert.match(
      line("grace"),
      new RegExp(`\\s${graced}\\s+grace\\s+works until ${rotated.previous.grace_until}; rotated to ${rotated.key.id}$`),
    );
    assert.match(line("revoked"), new RegExp(`\\s${revoked}\\s+revoked\\s*$`));
    assert.match(line("expired"), new RegExp(`\\s${expired}\\s+expired\\s*$`));
    assert.match(
      line("rotating"),
      new RegExp(`\\s${deferred}\\s+rotating\\s+rotated to ${successorOfDeferred}; its grace has not started$`),
    );
    assert.match(line("foreign"), /\s1\s+unknown\s+the secret has no key_id of this authorizer$/);
    assert.match(line("never"), /^kv\/data\/status\/never\s+empty\s+Vault holds no secret here$/);
    // Reads only: nothing written to Vault.
    assert.ok(requestsSince(from).every((r) => r.startsWith("GET /v1/kv/data/status/")));

    const json = await cli(["vault-status", paths[0], paths[1], "--json"]);
    assert.equal(json.code, 1);
    const rows = JSON.parse(json.stdout).paths;
    assert.deepEqual(
      rows.map((r) => [r.path, r.key_id, r.state, r.grace_until]),
      [
        [paths[0], active, "active", null],
        [paths[1], graced, "grace", rotated.previous.grace_until],
      ],
    );

    const current = await cli(["vault-status", paths[0]]);
    assert.equal(current.code, 0, current.stderr);
  });

  it("fails clearly without paths, with a bad path, or when Vault refuses", async () => {
    assert.match((await cli(["vault-status"])).stderr, /vault-status needs one or more paths/);
    assert.match((await cli(["vault-status", "kv/x"])).stderr, /"kv\/x" is not a KV v2 data path/);
    const refused = await cli(["vault-status", "kv/data/status/active"], { VAULT_TOKEN: "hvs.wrong" });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Vault refused to read kv\/data\/status\/active \(403: permission denied\)/);
  });
});
