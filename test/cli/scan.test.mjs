// `npm run scan`: files, git history, staged changes, redaction and exit codes, on throwaway directories.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { generateCredential, generateKey } from "../../src/keys/format.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const SCAN = join(ROOT, "scripts/scan.mjs");
const dirs = [];

function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), "scan-test-"));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const scan = (args, cwd) => spawnSync(process.execPath, [SCAN, "--vendor", "", ...args], { cwd, encoding: "utf8" });
const badChecksum = (key) => key.slice(0, -1) + (key.endsWith("0") ? "1" : "0");
const git = (cwd, ...args) =>
  execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "commit.gpgsign=false", ...args], {
    cwd,
    encoding: "utf8",
  });

describe("npm run scan", () => {
  it("finds keys with valid checksums in files, redacted, and exits 1", () => {
    const dir = tempDir();
    const live = generateKey("", "secret", "live");
    const pub = generateKey("", "publishable", "test");
    mkdirSync(join(dir, "src"));
    writeFileSync(
      join(dir, "src", "config.ts"),
      `// settings\nexport const key = "${live}";\nconst other = '${pub}';\n`,
    );
    writeFileSync(
      join(dir, "notes.txt"),
      `a look-alike: ${badChecksum(generateKey("", "secret", "live"))}\ntoo short: ${live.slice(0, -1)}\n`,
    );
    writeFileSync(join(dir, "blob.bin"), Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(live)]));
    mkdirSync(join(dir, "node_modules"));
    writeFileSync(join(dir, "node_modules", "dep.js"), live);

    const result = scan([], dir);
    assert.equal(result.status, 1, result.stderr);
    const lines = result.stdout.trim().split("\n");
    assert.deepEqual(lines.slice(0, 2), [
      `src/config.ts:2:21: sk_live_…${live.slice(-4)}`,
      `src/config.ts:3:16: pk_test_…${pub.slice(-4)}`,
    ]);
    assert.match(lines[2], /^2 key\(s\) found/);
    assert.equal(lines.length, 3, "no word about admin credentials when there are none");
    assert.ok(!result.stdout.includes(live) && !result.stdout.includes(pub), "keys are redacted");
  });

  it("finds admin credentials with valid checksums, of the configured vendor only, redacted", () => {
    const dir = tempDir();
    const ours = generateCredential("acme");
    writeFileSync(
      join(dir, "ci.env"),
      [
        `ADMIN_CREDENTIAL=${ours}`,
        `LOOKALIKE=${badChecksum(generateCredential("acme"))}`,
        `RANDOM=acme_ak_${"aB3".repeat(16)}x`,
        `OTHER=${generateCredential("other")}`,
        `BARE=${generateCredential("")}`,
        "",
      ].join("\n"),
    );
    const result = spawnSync(process.execPath, [SCAN, "--vendor", "acme", "--json"], { cwd: dir, encoding: "utf8" });
    assert.equal(result.status, 1, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout).findings, [
      { location: "ci.env:1:18", key: `acme_ak_…${ours.slice(-4)}` },
    ]);
    assert.ok(!result.stdout.includes(ours));
    const text = spawnSync(process.execPath, [SCAN, "--vendor", "acme"], { cwd: dir, encoding: "utf8" });
    assert.match(text.stdout, /^1 key\(s\) found/m);
    assert.match(
      text.stdout,
      /^Admin credentials \(ak_\) among them: revoke them with POST \/admin\/v1\/credentials\/<id>\/revoke\.$/m,
    );

    const bare = generateCredential("");
    writeFileSync(join(dir, "ci.env"), `x = "${bare}"\nnope = "${badChecksum(bare)}"\n`);
    const unvendored = scan(["--json"], dir);
    assert.equal(unvendored.status, 1);
    assert.deepEqual(JSON.parse(unvendored.stdout).findings, [
      { location: "ci.env:1:6", key: `ak_…${bare.slice(-4)}` },
    ]);
  });

  it("exits 0 when there is nothing, and 2 on a bad path or flag", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "clean.txt"), "nothing here but sk_live_ and words\n");
    const clean = scan([], dir);
    assert.equal(clean.status, 0);
    assert.match(clean.stdout, /No keys found/);
    assert.equal(scan(["does-not-exist"], dir).status, 2);
    assert.equal(scan(["--revoke"], dir).status, 2);
  });

  it("reads only the keys of the configured vendor", () => {
    const dir = tempDir();
    const ours = generateKey("acme", "secret", "live");
    writeFileSync(
      join(dir, "a.txt"),
      `${ours}\n${generateKey("", "secret", "live")}\n${generateKey("other", "secret", "live")}\n`,
    );
    const result = spawnSync(process.execPath, [SCAN, "--vendor", "acme", "--json"], { cwd: dir, encoding: "utf8" });
    assert.equal(result.status, 1);
    assert.deepEqual(JSON.parse(result.stdout).findings, [
      { location: "a.txt:1:1", key: `acme_sk_live_…${ours.slice(-4)}` },
    ]);
  });

  it("with --git, finds a key removed from the working tree but still in history", () => {
    const dir = tempDir();
    const key = generateKey("", "secret", "test");
    git(dir, "init", "-q");
    writeFileSync(join(dir, "app.js"), `line one\nconst k = "${key}";\n`);
    git(dir, "add", ".");
    git(dir, "commit", "-qm", "add key");
    const commit = git(dir, "rev-parse", "HEAD").trim().slice(0, 12);
    writeFileSync(join(dir, "app.js"), "line one\nconst k = process.env.KEY;\n");
    git(dir, "commit", "-qam", "remove key");

    assert.equal(scan([], dir).status, 0, "the working tree is clean");
    const history = scan(["--git"], dir);
    assert.equal(history.status, 1, history.stderr);
    assert.equal(history.stdout.split("\n")[0], `${commit}:app.js:2:12: sk_test_…${key.slice(-4)}`);
    assert.ok(!history.stdout.includes(key));
    assert.equal(scan(["--git"], tempDir()).status, 2, "not a repository");
  });

  it("with --staged (the pre-commit hook), blocks a commit that adds a key", () => {
    const dir = tempDir();
    const key = generateKey("", "secret", "live");
    git(dir, "init", "-q");
    writeFileSync(join(dir, "ok.txt"), "fine\n");
    git(dir, "add", ".");
    git(dir, "commit", "-qm", "start");
    writeFileSync(join(dir, ".env"), `A=1\nKEY=${key}\n`);
    assert.equal(scan(["--staged"], dir).status, 0, "nothing staged yet");
    git(dir, "add", ".env");
    const staged = scan(["--staged"], dir);
    assert.equal(staged.status, 1);
    assert.match(staged.stdout, new RegExp(`^\\.env:2:5: sk_live_…${key.slice(-4)}$`, "m"));

    // Installed as the hook, it stops the commit.
    writeFileSync(
      join(dir, ".git", "hooks", "pre-commit"),
      `#!/bin/sh\nexec "${process.execPath}" "${SCAN}" --vendor "" --staged\n`,
      { mode: 0o755 },
    );
    const commit = spawnSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "leak"], {
      cwd: dir,
      encoding: "utf8",
    });
    assert.notEqual(commit.status, 0);
    assert.equal(git(dir, "log", "--oneline").trim().split("\n").length, 1);
  });
});
