// The generated truffleHog detectors: one per prefix, from the grammar, verified by this authorizer.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { credentialPrefix, generateCredential, generateKey, keyPrefix } from "../../src/keys/format.ts";
import { trufflehogDetectors, trufflehogYaml } from "../../scripts/trufflehog-config.mjs";

const ROOT = resolve(import.meta.dirname, "../..");
const TOKEN = "0123456789abcdef0123";

describe("truffleHog detectors", () => {
  it("match exactly the minted keys of their prefix, and verify at this authorizer with the token", () => {
    const detectors = trufflehogDetectors("acme", { url: "https://api.example.com/base", token: TOKEN });
    assert.equal(detectors.length, 5);
    assert.equal(new Set(detectors.map((d) => d.name)).size, 5);
    for (const [type, env] of [
      ["secret", "live"],
      ["secret", "test"],
      ["publishable", "live"],
      ["publishable", "test"],
    ]) {
      const prefix = keyPrefix("acme", type, env);
      const d = detectors.find((x) => x.keywords[0] === prefix);
      const regex = new RegExp(d.regex.key, "g");
      const key = generateKey("acme", type, env);
      assert.deepEqual(
        [...`KEY=${key};`.matchAll(regex)].map((m) => m[1]),
        [key],
      );
      assert.deepEqual([...`KEY=${key}x`.matchAll(regex)], []);
      assert.deepEqual([...`KEY=${key.slice(5)}`.matchAll(regex)], [], "the bare prefix is another vendor's");
      assert.deepEqual(d.verify, [
        {
          endpoint: "https://api.example.com/webhooks/trufflehog/verify",
          unsafe: false,
          headers: [`Authorization: Bearer ${TOKEN}`],
          successRanges: ["200"],
          rotatedRanges: ["403"],
        },
      ]);
    }
    assert.equal(trufflehogDetectors("", { url: "http://127.0.0.1:8787", token: TOKEN })[0].verify[0].unsafe, true);
  });

  it("have a detector for admin credentials that matches a minted one and not a bad checksum", () => {
    for (const vendor of ["", "acme"]) {
      const detectors = trufflehogDetectors(vendor, { url: "https://api.example.com", token: TOKEN });
      const d = detectors.find((x) => x.keywords[0] === credentialPrefix(vendor));
      assert.ok(d, vendor);
      assert.equal(d.name, `EdgeKeyAuthorizer${vendor ? `_${vendor}` : ""}_ak`);
      assert.deepEqual(d.verify, detectors[0].verify);
      const regex = new RegExp(d.regex.key, "g");
      const credential = generateCredential(vendor);
      assert.deepEqual(
        [...`TOKEN=${credential};`.matchAll(regex)].map((m) => m[1]),
        [credential],
      );
      assert.deepEqual([...`TOKEN=${credential}x`.matchAll(regex)], []);
      // No key detector claims it, and it claims no key.
      for (const other of detectors.filter((x) => x !== d)) {
        assert.deepEqual([...credential.matchAll(new RegExp(other.regex.key, "g"))], []);
      }
      assert.deepEqual([...generateKey(vendor, "secret", "live").matchAll(regex)], []);
    }
  });

  it("writes the same detectors as YAML whose scalars are JSON strings", () => {
    const yaml = trufflehogYaml("", { url: "https://api.example.com", token: TOKEN });
    const regexes = [...yaml.matchAll(/^ {6}key: (".*")$/gm)].map((m) => JSON.parse(m[1]));
    assert.deepEqual(
      regexes,
      trufflehogDetectors("", { url: "https://api.example.com", token: TOKEN }).map((d) => d.regex.key),
    );
    assert.equal((yaml.match(/^ {2}- name: /gm) ?? []).length, 5);
  });

  it("is what `npm run trufflehog-config` writes (mode 600), and refuses to run without a token", () => {
    const dir = mkdtempSync(join(tmpdir(), "trufflehog-config-"));
    try {
      const out = join(dir, "trufflehog.yaml");
      const env = { ...process.env, TRUFFLEHOG_VERIFY_TOKEN: TOKEN };
      const run = spawnSync(
        "npm",
        [
          "run",
          "--silent",
          "trufflehog-config",
          "--",
          "--url",
          "https://api.example.com",
          "--vendor",
          "",
          "--out",
          out,
        ],
        { cwd: ROOT, env, encoding: "utf8" },
      );
      assert.equal(run.status, 0, run.stderr);
      assert.equal(readFileSync(out, "utf8"), trufflehogYaml("", { url: "https://api.example.com", token: TOKEN }));
      assert.equal(statSync(out).mode & 0o777, 0o600);
      const missing = spawnSync(
        "npm",
        ["run", "--silent", "trufflehog-config", "--", "--url", "https://api.example.com", "--out", "-"],
        {
          cwd: ROOT,
          env: { ...process.env, TRUFFLEHOG_VERIFY_TOKEN: "" },
          encoding: "utf8",
        },
      );
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /TRUFFLEHOG_VERIFY_TOKEN/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
