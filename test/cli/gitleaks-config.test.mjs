// The generated gitleaks rules, tested as gitleaks applies them: keyword pre-filter (lower-cased), the rule's
// regex (its syntax is the subset Go's RE2 and JavaScript read alike), the secret group, and the entropy floor.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { credentialPrefix, generateCredential, generateKey, keyPrefix } from "../../src/keys/format.ts";
import { gitleaksRules, gitleaksToml, MIN_ENTROPY } from "../../scripts/gitleaks-config.mjs";

const ROOT = resolve(import.meta.dirname, "../..");

/** Shannon entropy in bits per character, as gitleaks computes it over the secret. */
function entropy(text) {
  const counts = new Map();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / text.length) * Math.log2(n / text.length);
  return bits;
}

/** The secrets gitleaks would report for this text under these rules: [rule id, secret]. */
function gitleaksFindings(rules, text) {
  const out = [];
  for (const rule of rules) {
    if (!rule.keywords.some((k) => text.toLowerCase().includes(k.toLowerCase()))) continue;
    for (const match of text.matchAll(new RegExp(rule.regex, "g"))) {
      const secret = match[rule.secretGroup];
      if (entropy(secret) >= rule.entropy) out.push([rule.id, secret]);
    }
  }
  return out;
}

const TYPES = [
  ["secret", "live", "sk-live"],
  ["secret", "test", "sk-test"],
  ["publishable", "live", "pk-live"],
  ["publishable", "test", "pk-test"],
];

describe("gitleaks rules", () => {
  for (const vendor of ["", "acme"]) {
    const rules = gitleaksRules(vendor);
    it(`has one rule per prefix, tagged by environment, live secret keys critical (vendor "${vendor}")`, () => {
      assert.equal(rules.length, 5);
      for (const [type, env, id] of TYPES) {
        const rule = rules.find((r) => r.id.endsWith(id));
        assert.ok(rule, id);
        assert.deepEqual(rule.keywords, [keyPrefix(vendor, type, env)]);
        assert.ok(rule.tags.includes(env) && rule.tags.includes(type));
        assert.equal(rule.tags.includes("critical"), id === "sk-live");
        assert.doesNotMatch(rule.regex, /\(\?[=!<]|\\[1-9]/, "no lookaround or backreference: RE2 has none");
      }
    });

    it(`finds every minted key exactly once, by the rule of its prefix (vendor "${vendor}")`, () => {
      for (const [type, env, id] of TYPES) {
        for (let i = 0; i < 200; i++) {
          const key = generateKey(vendor, type, env);
          for (const text of [
            key,
            `API_KEY=${key}`,
            `"${key}",`,
            `token: '${key}'\n`,
            `Authorization: Bearer ${key}`,
          ]) {
            const found = gitleaksFindings(rules, text);
            assert.equal(found.length, 1, text);
            assert.ok(found[0][0].endsWith(id));
            assert.equal(found[0][1], key);
          }
        }
      }
    });

    it(`finds every minted admin credential exactly once, by its own critical rule (vendor "${vendor}")`, () => {
      const rule = rules.find((r) => r.id.endsWith("admin-credential"));
      assert.deepEqual(rule.keywords, [credentialPrefix(vendor)]);
      assert.ok(rule.tags.includes("critical"));
      assert.doesNotMatch(rule.regex, /\(\?[=!<]|\\[1-9]/, "no lookaround or backreference: RE2 has none");
      for (let i = 0; i < 200; i++) {
        const credential = generateCredential(vendor);
        for (const text of [credential, `ADMIN_CREDENTIAL=${credential}`, `Authorization: Bearer ${credential}\n`]) {
          assert.deepEqual(gitleaksFindings(rules, text), [[rule.id, credential]], text);
        }
      }
    });

    it(`reports no admin-credential near-miss (vendor "${vendor}")`, () => {
      const credential = generateCredential(vendor);
      const prefix = credentialPrefix(vendor);
      const body = credential.slice(prefix.length);
      const nearMisses = [
        prefix + body.slice(1),
        `${credential}A`,
        `x${credential}`,
        `${credential}_suffix`,
        credential.replace(prefix, prefix.toUpperCase()),
        `${prefix}${"x".repeat(49)}`,
        `${prefix}YOUR_ADMIN_CREDENTIAL`,
        ...(vendor
          ? [credential.replace(`${vendor}_`, "other_"), credential.slice(vendor.length + 1)]
          : [`acme_${credential}`]),
      ];
      for (const text of nearMisses) assert.deepEqual(gitleaksFindings(rules, `KEY=${text}`), [], text);
    });

    it(`reports no near-miss (vendor "${vendor}")`, () => {
      const key = generateKey(vendor, "secret", "live");
      const prefix = keyPrefix(vendor, "secret", "live");
      const body = key.slice(prefix.length);
      const nearMisses = [
        prefix + body.slice(1), // 48 characters
        `${key}A`, // 50 characters
        `${prefix}${body.slice(0, 20)}-${body.slice(21)}`, // a character outside base62
        `x${key}`, // glued to a word
        `${key}_suffix`,
        key.replace(prefix, prefix.toUpperCase()), // SK_LIVE_
        key.replace("_live_", "_prod_"),
        key.replace(/^(?:[a-z0-9]+_)?sk_/, `${vendor ? `${vendor}_` : ""}rk_`),
        ...(vendor ? [key.replace(`${vendor}_`, "other_"), key.slice(vendor.length + 1)] : [`acme_${key}`]),
      ];
      for (const text of nearMisses) assert.deepEqual(gitleaksFindings(rules, `KEY=${text}`), [], text);
    });

    it(`ignores the placeholders and look-alikes of gitleaks' false-positive corpus (vendor "${vendor}")`, () => {
      const p = keyPrefix(vendor, "secret", "live");
      const corpus = [
        `${p}${"x".repeat(49)}`,
        `${p}${"0".repeat(49)}`,
        `${p}${"X".repeat(24)}${"Y".repeat(25)}`,
        `${p}YOUR_API_KEY_HERE`,
        `${p}<redacted>`,
        `${p}...`,
        `${p}\${API_KEY}`,
        `${p}************************************************`,
        "sk_live_51HqLyjWDarjtT1zdp7dcXVd3nnNDQmRHZd", // Stripe's shape, 35 characters
        "pk_test_TYooMQauvdEDq54NiTphI7jx", // Stripe's documentation key
        "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLM", // OpenAI's shape
      ];
      for (const text of corpus) assert.deepEqual(gitleaksFindings(rules, `const key = "${text}";`), [], text);
    });
  }

  it("keeps every minted key above the entropy floor", () => {
    let lowest = Infinity;
    for (let i = 0; i < 5000; i++) lowest = Math.min(lowest, entropy(generateKey("", "secret", "live")));
    assert.ok(lowest > MIN_ENTROPY + 0.5, `lowest ${lowest}`);
  });

  it("writes the same rules into gitleaks.toml, regexes as TOML literal strings", () => {
    const toml = gitleaksToml("acme");
    const regexes = [...toml.matchAll(/^regex = '''(.*)'''$/gm)].map((m) => m[1]);
    assert.deepEqual(
      regexes,
      gitleaksRules("acme").map((r) => r.regex),
    );
    assert.equal((toml.match(/^\[\[rules\]\]$/gm) ?? []).length, 5);
    assert.doesNotMatch(toml, /useDefault/);
    assert.match(gitleaksToml("acme", { extendDefault: true }), /^\[extend\]\nuseDefault = true$/m);
  });

  it("is what `npm run gitleaks-config` writes, under the vendor asked for", () => {
    const dir = mkdtempSync(join(tmpdir(), "gitleaks-config-"));
    try {
      const out = join(dir, "gitleaks.toml");
      const run = spawnSync("npm", ["run", "--silent", "gitleaks-config", "--", "--vendor", "acme", "--out", out], {
        cwd: ROOT,
        encoding: "utf8",
      });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(readFileSync(out, "utf8"), gitleaksToml("acme"));
      const bad = spawnSync(
        "npm",
        ["run", "--silent", "gitleaks-config", "--", "--vendor", "Not-Valid", "--out", "-"],
        { cwd: ROOT, encoding: "utf8" },
      );
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /not \[a-z\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
