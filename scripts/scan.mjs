#!/usr/bin/env node
// `npm run scan -- [paths…] [--git | --staged] [--vendor <v>] [--report [--revoke]] [--url <u>] [--json]`
// Finds this project's keys and admin credentials (`<vendor>_ak_…`): strings of the key grammar
// (src/keys/format.ts) whose checksum is valid, so random look-alikes are not reported. Prints each with all but its prefix and last 4 characters redacted,
// and exits 1 when it found any (0 when none, 2 on an error: bad usage, git failing, the report refused).
//   paths…    files or directories (default: the current directory; .git and node_modules are skipped)
//   --git     the whole history of the repository at each path (`git log -p --all`): lines ever added
//   --staged  what is staged for the next commit (`git diff --cached`): the pre-commit hook
//   --vendor  the vendor part of the keys (default: KEY_VENDOR_PREFIX in wrangler.toml)
//   --report  send the findings (SHA-256 and location only, never the key) to the admin API;
//   --revoke  with --report: revoke the keys too
// Pre-commit hook (.git/hooks/pre-commit, executable):  #!/bin/sh
//                                                        exec npm run --silent scan -- --staged
import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, readSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import {
  credentialPatternSource,
  isVendorPart,
  keyPatternSource,
  parseCredential,
  parseKey,
  VENDOR_SOURCE,
} from "../src/keys/format.ts";
import { adminBase, adminPost, countsLine } from "./admin-client.mjs";
import { CliError, runCli } from "./cli.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const SKIPPED_DIRECTORIES = new Set([".git", "node_modules", ".wrangler"]);
/** Files larger than this are not read (keys live in source and config, not in multi-megabyte blobs). */
const MAX_FILE_BYTES = 10 * 1024 * 1024;

/** Matches candidates: a key or an admin credential under the vendor, not glued to other word characters. */
export function keyPattern(vendor) {
  return new RegExp(
    `(?<![0-9A-Za-z_])(?:${keyPatternSource(vendor)}|${credentialPatternSource(vendor)})(?![0-9A-Za-z_])`,
    "g",
  );
}

/** `sk_live_…AbCd` */
export function redact(key) {
  return `${key.slice(0, key.length - 49)}…${key.slice(-4)}`;
}

/** The keys and admin credentials (valid checksum) in one line of text, with their 1-based columns. */
export function keysInLine(line, vendor) {
  const found = [];
  for (const match of line.matchAll(keyPattern(vendor))) {
    if (parseKey(match[0], vendor) || parseCredential(match[0], vendor))
      found.push({ key: match[0], column: match.index + 1 });
  }
  return found;
}

function* walk(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) throw new CliError(`No such file or directory: ${path}`);
  if (stat.isDirectory()) {
    for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory() && SKIPPED_DIRECTORIES.has(entry.name)) continue;
      if (entry.isDirectory() || entry.isFile()) yield* walk(join(path, entry.name));
    }
  } else if (stat.isFile() && stat.size <= MAX_FILE_BYTES) {
    yield path;
  }
}

function isBinary(file) {
  const fd = openSync(file, "r");
  try {
    const head = Buffer.alloc(8000);
    const n = readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, n).includes(0);
  } finally {
    closeSync(fd);
  }
}

function scanFiles(paths, vendor) {
  const findings = [];
  for (const path of paths) {
    for (const file of walk(path)) {
      if (isBinary(file)) continue;
      const lines = readFileSync(file, "utf8").split("\n");
      lines.forEach((line, i) => {
        for (const { key, column } of keysInLine(line, vendor)) {
          findings.push({ key, location: `${relative(process.cwd(), file) || file}:${i + 1}:${column}` });
        }
      });
    }
  }
  return findings;
}

/**
 * Keys on the added lines of a patch stream (`git log -p` or `git diff --cached`), located as
 * `<commit>:<file>:<line>` (the commit left out for staged changes).
 */
async function scanPatch(cwd, args, vendor) {
  const git = spawn("git", ["-C", cwd, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  git.stderr.on("data", (chunk) => (stderr += chunk));
  const findings = [];
  let commit = "";
  let file = "";
  let line = 0;
  for await (const text of createInterface({ input: git.stdout, crlfDelay: Infinity })) {
    if (text.startsWith("commit ")) commit = text.slice(7, 19);
    else if (text.startsWith("+++ ")) file = text.startsWith("+++ b/") ? text.slice(6) : text.slice(4);
    else if (text.startsWith("@@")) line = Number(/\+(\d+)/.exec(text)?.[1] ?? 0);
    else if (text.startsWith("+")) {
      for (const { key, column } of keysInLine(text.slice(1), vendor)) {
        findings.push({ key, location: `${commit ? `${commit}:` : ""}${file}:${line}:${column}` });
      }
      line++;
    } else if (text.startsWith(" ")) line++;
  }
  const code = await new Promise((res) => git.on("close", res));
  if (code !== 0) throw new CliError(`git failed in ${cwd}: ${stderr.trim().split("\n")[0]}`);
  return findings;
}

function configuredVendor() {
  const toml = readFileSync(resolve(ROOT, "wrangler.toml"), "utf8");
  return /^\s*KEY_VENDOR_PREFIX\s*=\s*"([^"]*)"/m.exec(toml)?.[1] ?? "";
}

const sha256 = (text) => createHash("sha256").update(text).digest("hex");

async function main(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      git: { type: "boolean", default: false },
      staged: { type: "boolean", default: false },
      vendor: { type: "string" },
      report: { type: "boolean", default: false },
      revoke: { type: "boolean", default: false },
      url: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(
      readFileSync(import.meta.filename, "utf8")
        .split("\n")
        .slice(1, 15)
        .map((l) => l.replace(/^\/\/ ?/, ""))
        .join("\n"),
    );
    return 0;
  }
  if (values.revoke && !values.report) throw new CliError("--revoke needs --report");
  if (values.git && values.staged) throw new CliError("--git and --staged are exclusive");
  const vendor = values.vendor ?? configuredVendor();
  if (!isVendorPart(vendor)) throw new CliError(`--vendor "${vendor}" is not ${VENDOR_SOURCE}`);
  const paths = positionals.length > 0 ? positionals : ["."];

  let findings = [];
  if (values.git) {
    for (const path of paths)
      findings.push(
        ...(await scanPatch(
          path,
          ["log", "-p", "--all", "--no-color", "--no-ext-diff", "-U0", "--format=commit %H"],
          vendor,
        )),
      );
  } else if (values.staged) {
    for (const path of paths)
      findings.push(...(await scanPatch(path, ["diff", "--cached", "--no-color", "--no-ext-diff", "-U0"], vendor)));
  } else {
    findings = scanFiles(paths, vendor);
  }

  const shown = findings.map((f) => ({ location: f.location, key: redact(f.key) }));
  if (values.json) console.log(JSON.stringify({ findings: shown }, null, 2));
  else {
    for (const f of shown) console.log(`${f.location}: ${f.key}`);
    console.log(
      findings.length === 0
        ? "No keys found."
        : `${findings.length} key(s) found. Revoke them (npm run keys -- revoke <id>) and remove them from the code and its history.`,
    );
    if (findings.some((f) => parseCredential(f.key, vendor)))
      console.log("Admin credentials (ak_) among them: revoke them with POST /admin/v1/credentials/<id>/revoke.");
  }
  if (values.report && findings.length > 0) {
    const body = JSON.stringify({
      findings: findings.map((f) => ({ key_hash: sha256(f.key), location: f.location })),
      revoke: values.revoke,
    });
    const answer = await adminPost(adminBase(values.url), "/leaks/scanner", body);
    console.error(`Reported to the authorizer: ${countsLine(answer.counts)}`);
  }
  return findings.length > 0 ? 1 : 0;
}

runCli(main, { failureCode: 2 });
