#!/usr/bin/env node
// `npm run report [-- --json] [--out <file>] [--url <base>]`: the API Key Security Implementation Report,
// fetched from a running authorizer's GET /admin/v1/report (every figure comes from its live data).
//
// Options: --url (default $AUTHORIZER_URL or http://127.0.0.1:8787), --json (the same data as JSON),
// --out <file> (write there instead of stdout). The admin token comes from $ADMIN_TOKEN, or from .dev.vars
// (what `npm start` creates).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";

class CliError extends Error {}

function adminToken() {
  if (process.env.ADMIN_TOKEN) return process.env.ADMIN_TOKEN;
  const devVars = resolve(import.meta.dirname, "..", ".dev.vars");
  if (existsSync(devVars)) {
    const match = /^\s*ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?\s*$/m.exec(readFileSync(devVars, "utf8"));
    if (match) return match[1];
  }
  throw new CliError("No admin token: set ADMIN_TOKEN, or run `npm start` once to create .dev.vars.");
}

async function main(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: "string" },
      json: { type: "boolean", default: false },
      out: { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log("usage: npm run report -- [--json] [--out <file>] [--url <base URL>]");
    return 0;
  }
  const base = (values.url ?? process.env.AUTHORIZER_URL ?? "http://127.0.0.1:8787").replace(/\/$/, "");
  let response;
  try {
    response = await fetch(`${base}/admin/v1/report?format=${values.json ? "json" : "markdown"}`, {
      headers: { Authorization: `Bearer ${adminToken()}` },
    });
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`Cannot reach ${base}: ${error.cause?.code ?? error.message}. Is the authorizer running (npm start)?`);
  }
  const text = await response.text();
  if (!response.ok) {
    let problem = {};
    try {
      problem = JSON.parse(text);
    } catch {
      // not problem+json: report the status alone
    }
    throw new CliError(`${response.status} ${problem.code ?? ""}: ${problem.title ?? "the report could not be produced"}`);
  }
  const output = values.json ? `${JSON.stringify(JSON.parse(text), null, 2)}\n` : text;
  if (values.out) {
    writeFileSync(values.out, output);
    console.error(`Wrote ${values.out}`);
  } else {
    process.stdout.write(output);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    if (error instanceof CliError || error.code?.startsWith?.("ERR_PARSE_ARGS")) {
      console.error(error.message);
      process.exit(1);
    }
    console.error(error);
    process.exit(1);
  },
);
