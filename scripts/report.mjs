#!/usr/bin/env node
// `npm run report [-- --json] [--out <file>] [--url <base>]`: the API Key Security Implementation Report,
// fetched from a running authorizer's GET /admin/v1/report (every figure comes from its live data).
//
// Options: --url (default $AUTHORIZER_URL or http://127.0.0.1:8787), --json (the same data as JSON),
// --out <file> (write there instead of stdout). The admin token comes from $ADMIN_TOKEN, or from .dev.vars
// (what `npm start` creates).
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { adminBase, adminRequest } from "./admin-client.mjs";
import { runCli } from "./cli.mjs";

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
  const text = await adminRequest(adminBase(values.url), `/report?format=${values.json ? "json" : "markdown"}`);
  const output = values.json ? `${JSON.stringify(JSON.parse(text), null, 2)}\n` : text;
  if (values.out) {
    writeFileSync(values.out, output);
    console.error(`Wrote ${values.out}`);
  } else {
    process.stdout.write(output);
  }
  return 0;
}

runCli(main);
