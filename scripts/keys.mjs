#!/usr/bin/env node
// `npm run keys -- <command> …`: the admin API from a terminal.
//
//   create --owner <id> [--type secret|publishable] [--env live|test] [--name <text>] [--scopes a,b]
//          [--ip <cidr,…>] [--routes "<METHOD> <path>,…"] [--origins <origin,…>] [--limits <json>]
//          [--metadata <json>] [--expires-in-days <n>]
//   list   [--owner <id>] [--status active|disabled|revoked|expired] [--env live|test] [--limit <n>] [--cursor <c>]
//   get    <key id>
//   update <key id> [--name] [--scopes] [--ip] [--routes] [--origins] [--limits] [--metadata] [--expires-at <iso>]
//   revoke <key id> [--reason <text>]
//   disable <key id> | enable <key id>
//   rotate <key id> [--grace-hours <n>] [--expires-in-days <n>]
//   audit  [--key <key id>] [--limit <n>] [--cursor <c>]
//
// Options: --url (default $AUTHORIZER_URL or http://127.0.0.1:8787), --json (machine-readable output).
// The admin token comes from $ADMIN_TOKEN, or from .dev.vars (what `npm start` creates).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { adminBase, adminJson } from "./admin-client.mjs";
import { CliError, runCli } from "./cli.mjs";

const OPTIONS = {
  url: { type: "string" },
  json: { type: "boolean", default: false },
  owner: { type: "string" },
  type: { type: "string" },
  env: { type: "string" },
  name: { type: "string" },
  scopes: { type: "string" },
  ip: { type: "string" },
  routes: { type: "string" },
  origins: { type: "string" },
  limits: { type: "string" },
  metadata: { type: "string" },
  "expires-in-days": { type: "string" },
  "expires-at": { type: "string" },
  status: { type: "string" },
  limit: { type: "string" },
  cursor: { type: "string" },
  reason: { type: "string" },
  "grace-hours": { type: "string" },
  key: { type: "string" },
  help: { type: "boolean", default: false },
};

const list = (text) =>
  text === undefined
    ? undefined
    : text
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
const int = (text, flag) => {
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text)) throw new CliError(`--${flag} must be a whole number`);
  return Number(text);
};
const json = (text, flag) => {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`--${flag} must be JSON`);
  }
};

/** The settings flags shared by create and update, as the API's snake_case body. */
function settingsBody(values) {
  const body = {
    name: values.name,
    scopes: list(values.scopes),
    ip_allowlist: list(values.ip),
    allowed_routes: list(values.routes),
    allowed_origins: list(values.origins),
    rate_limits: json(values.limits, "limits"),
    metadata: json(values.metadata, "metadata"),
  };
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
}

function query(params) {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined);
  return entries.length === 0 ? "" : `?${new URLSearchParams(entries).toString()}`;
}

function requireId(positionals) {
  const id = positionals[1];
  if (!id) throw new CliError(`${positionals[0]} needs a key id, e.g. key_…`);
  return encodeURIComponent(id);
}

/** Each command: the request it makes. */
const COMMANDS = {
  create: (v) => ({
    method: "POST",
    path: "/keys",
    body: {
      owner_id: v.owner,
      type: v.type,
      environment: v.env,
      expires_in_days: int(v["expires-in-days"], "expires-in-days"),
      ...settingsBody(v),
    },
  }),
  list: (v) => ({
    method: "GET",
    path: `/keys${query({ owner_id: v.owner, status: v.status, environment: v.env, limit: v.limit, cursor: v.cursor })}`,
  }),
  get: (v, p) => ({ method: "GET", path: `/keys/${requireId(p)}` }),
  update: (v, p) => ({
    method: "PATCH",
    path: `/keys/${requireId(p)}`,
    body: { ...settingsBody(v), expires_at: v["expires-at"] },
  }),
  revoke: (v, p) => ({
    method: "POST",
    path: `/keys/${requireId(p)}/revoke`,
    body: v.reason === undefined ? undefined : { reason: v.reason },
  }),
  disable: (v, p) => ({ method: "POST", path: `/keys/${requireId(p)}/disable` }),
  enable: (v, p) => ({ method: "POST", path: `/keys/${requireId(p)}/enable` }),
  rotate: (v, p) => ({
    method: "POST",
    path: `/keys/${requireId(p)}/rotate`,
    body: {
      grace_period_hours: int(v["grace-hours"], "grace-hours"),
      expires_in_days: int(v["expires-in-days"], "expires-in-days"),
    },
  }),
  audit: (v) => ({ method: "GET", path: `/audit${query({ key_id: v.key, limit: v.limit, cursor: v.cursor })}` }),
};

/** Sends a command's request, leaving out the body fields it does not set. */
function request(base, { method, path, body }) {
  const cleaned =
    body === undefined
      ? undefined
      : JSON.stringify(Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)));
  return adminJson(base, path, { method, body: cleaned });
}

function table(rows, columns) {
  const cells = rows.map((row) => columns.map((c) => String(row[c] ?? "")));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (values) =>
    values
      .map((v, i) => v.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

const KEY_COLUMNS = ["id", "status", "type", "environment", "owner_id", "name", "scopes", "hint", "expires_at"];
const keyRow = (k) => ({ ...k, scopes: (k.scopes ?? []).join(" ") });

function human(command, result) {
  if (command === "create" || command === "rotate") {
    const lines = [
      "",
      `  ${result.api_key}`,
      "",
      "This is the only time the key is shown. Store it in your secret manager now.",
      "",
      table([keyRow(result.key)], KEY_COLUMNS),
    ];
    if (result.previous)
      lines.push("", `The previous key ${result.previous.id} keeps working until ${result.previous.grace_until}.`);
    return lines.join("\n");
  }
  if (command === "list") {
    const out = table(result.keys.map(keyRow), KEY_COLUMNS);
    return result.next_cursor ? `${out}\n\nMore: --cursor ${result.next_cursor}` : out;
  }
  if (command === "audit") {
    const rows = result.entries.map((e) => ({ ...e, changes: JSON.stringify(e.changes) }));
    const out = table(rows, ["at", "actor", "action", "key_id", "request_id", "changes"]);
    return result.next_cursor ? `${out}\n\nMore: --cursor ${result.next_cursor}` : out;
  }
  return table([keyRow(result)], [...KEY_COLUMNS, "revoke_reason", "rotated_to", "grace_until"]);
}

async function main(argv) {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const command = positionals[0];
  if (values.help || !command) {
    console.log(
      readFileSync(import.meta.filename, "utf8")
        .split("\n")
        .slice(1, 17)
        .map((l) => l.replace(/^\/\/ ?/, ""))
        .join("\n"),
    );
    return command || values.help ? 0 : 2;
  }
  const build = COMMANDS[command];
  if (!build) throw new CliError(`Unknown command "${command}". Commands: ${Object.keys(COMMANDS).join(", ")}`);
  const result = await request(adminBase(values.url), build(values, positionals));
  console.log(values.json ? JSON.stringify(result, null, 2) : human(command, result));
  return 0;
}

runCli(main);
