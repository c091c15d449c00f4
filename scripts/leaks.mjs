#!/usr/bin/env node
// `npm run leaks -- ingest [--format gitleaks|trufflehog] <report file>`: feeds a scanner's report to the
// authorizer, which revokes (gitleaks) or records (truffleHog, unless TRUFFLEHOG_REVOKE_ON_VERIFY) the live
// keys it names, and prints one line per finding that was a key.
//
//   gitleaks git --config gitleaks.toml --report-format json --report-path report.json .
//   npm run leaks -- ingest report.json
//   trufflehog git file://. --config trufflehog.yaml --json > results.jsonl
//   npm run leaks -- ingest --format trufflehog results.jsonl
//
// Options: --url (default $AUTHORIZER_URL or http://127.0.0.1:8787), --json. Token: $ADMIN_TOKEN or .dev.vars.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { adminBase, adminPost, countsLine } from "./admin-client.mjs";
import { CliError, runCli } from "./cli.mjs";

const ROUTES = {
  gitleaks: { path: "/leaks/gitleaks", contentType: "application/json" },
  trufflehog: { path: "/leaks/trufflehog", contentType: "application/x-ndjson" },
};

async function main(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: "string", default: "gitleaks" },
      url: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  const [command, file] = positionals;
  if (values.help || !command) {
    console.log(
      readFileSync(import.meta.filename, "utf8")
        .split("\n")
        .slice(1, 13)
        .map((l) => l.replace(/^\/\/ ?/, ""))
        .join("\n"),
    );
    return command || values.help ? 0 : 2;
  }
  if (command !== "ingest") throw new CliError(`Unknown command "${command}". Commands: ingest`);
  const route = ROUTES[values.format];
  if (!route) throw new CliError(`--format must be one of: ${Object.keys(ROUTES).join(", ")}`);
  if (!file) throw new CliError("ingest needs a report file");
  let body;
  try {
    body = readFileSync(file);
  } catch (error) {
    throw new CliError(`Cannot read ${file}: ${error.code ?? error.message}`);
  }
  const answer = await adminPost(adminBase(values.url), route.path, body, route.contentType);
  if (values.json) {
    console.log(JSON.stringify(answer, null, 2));
    return 0;
  }
  for (const r of answer.results) {
    if (r.status === "not_a_key") continue;
    console.log(
      `finding ${r.index}: ${r.status}${r.duplicate ? " (already reported)" : ""}${r.key_id ? ` ${r.key_id}` : ""}`,
    );
  }
  console.log(`${answer.results.length} finding(s): ${countsLine(answer.counts)}`);
  return 0;
}

runCli(main);
