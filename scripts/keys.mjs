#!/usr/bin/env node
// `npm run keys -- <command> …`: the admin API from a terminal.
//
//   create --owner <id> [--type secret|publishable] [--env live|test] [--name <text>] [--scopes a,b]
//          [--ip <cidr,…>] [--routes "<METHOD> <path>,…"] [--origins <origin,…>] [--limits <json>]
//          [--metadata <json>] [--expires-in-days <n> | --expires-in-seconds <n>] [--vault <mount>/data/<path>]
//   list   [--owner <id>] [--status active|disabled|revoked|expired] [--env live|test] [--search <id, hint or name>]
//          [--limit <n>] [--cursor <c>]
//   get    <key id>
//   update <key id> [--name] [--scopes] [--ip] [--routes] [--origins] [--limits] [--metadata] [--expires-at <iso>]
//   revoke <key id> [--reason <text>]
//   disable <key id> | enable <key id>
//   rotate <key id> [--grace-hours <n>] [--expires-in-days <n> | --expires-in-seconds <n>] [--vault <mount>/data/<path>]
//   check  [--method <m>] [--path <p>] [--ip <addr>] < key   (what the gateway would answer; the key is read
//          from stdin, never an argument, so it stays out of shell history; nothing spent or counted)
//   start-grace <key id> [--grace-hours <n>]   (the old key of a rotation whose grace was deferred)
//   vault-status <mount>/data/<path>…   (which key each Vault path holds, and its state)
//   audit  [--key <key id>] [--consumer <id>] [--limit <n>] [--cursor <c>]
//   consumers create <id> [--name <text>] [--metadata <json>] [--limits <json>] [--policy <json>]
//   consumers list   [--id <id>] [--status active|disabled|deleted] [--limit <n>] [--cursor <c>]
//   consumers get <id> | consumers delete <id>
//   consumers update <id> [--name] [--metadata] [--limits] [--policy]   (--limits and --policy replace whole)
//   consumers keys   <id> [--status] [--env] [--search] [--limit] [--cursor]
//   consumers disable <id> | consumers enable <id>
//   consumers revoke-keys <id> [--reason <text>]   (every key refused at once; progress in `consumers get`)
//   credentials create --name <text> --operations keys:rotate,keys:check [--consumers a,b] --expires-in-days <n>
//   credentials list [--limit] [--cursor] | credentials get <id> | credentials revoke <id> [--reason <text>]
//
// Options: --url (default $AUTHORIZER_URL or http://127.0.0.1:8787), --json (machine-readable output).
// The admin token comes from $ADMIN_TOKEN, or from .dev.vars (what `npm start` creates). --vault stores the
// new key in Vault's KV v2 ($VAULT_ADDR, $VAULT_TOKEN, $VAULT_NAMESPACE) instead of printing it.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { adminBase, adminJson } from "./admin-client.mjs";
import { CliError, runCli } from "./cli.mjs";
import { mintIntoVault, vaultStatus } from "../integrations/vault/commands.mjs";

/** How many lines of this file's opening comment --help prints. */
const HELP_LINES = 30;

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
  "expires-in-seconds": { type: "string" },
  method: { type: "string" },
  path: { type: "string" },
  "expires-at": { type: "string" },
  status: { type: "string" },
  search: { type: "string" },
  limit: { type: "string" },
  cursor: { type: "string" },
  reason: { type: "string" },
  "grace-hours": { type: "string" },
  key: { type: "string" },
  consumer: { type: "string" },
  id: { type: "string" },
  policy: { type: "string" },
  vault: { type: "string" },
  operations: { type: "string" },
  consumers: { type: "string" },
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
      expires_in_seconds: int(v["expires-in-seconds"], "expires-in-seconds"),
      ...settingsBody(v),
    },
  }),
  list: (v) => ({
    method: "GET",
    path: `/keys${query({ owner_id: v.owner, status: v.status, environment: v.env, q: v.search, limit: v.limit, cursor: v.cursor })}`,
  }),
  get: (_v, p) => ({ method: "GET", path: `/keys/${requireId(p)}` }),
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
  disable: (_v, p) => ({ method: "POST", path: `/keys/${requireId(p)}/disable` }),
  enable: (_v, p) => ({ method: "POST", path: `/keys/${requireId(p)}/enable` }),
  rotate: (v, p) => ({
    method: "POST",
    path: `/keys/${requireId(p)}/rotate`,
    body: {
      grace_period_hours: int(v["grace-hours"], "grace-hours"),
      expires_in_days: int(v["expires-in-days"], "expires-in-days"),
      expires_in_seconds: int(v["expires-in-seconds"], "expires-in-seconds"),
    },
  }),
  check: async (v) => ({
    method: "POST",
    path: "/keys/check",
    body: { api_key: await keyFromStdin(), method: v.method, path: v.path, ip: v.ip },
  }),
  "start-grace": (v, p) => ({
    method: "POST",
    path: `/keys/${requireId(p)}/start-grace`,
    body: { grace_period_hours: int(v["grace-hours"], "grace-hours") },
  }),
  audit: (v) => ({
    method: "GET",
    path: `/audit${query({ key_id: v.key, consumer_id: v.consumer, limit: v.limit, cursor: v.cursor })}`,
  }),
  consumers: (v, p) => {
    const build = CONSUMER_COMMANDS[p[1]];
    if (!build) throw new CliError(`consumers needs one of: ${Object.keys(CONSUMER_COMMANDS).join(", ")}`);
    return build(v, p);
  },
  credentials: (v, p) => {
    const build = CREDENTIAL_COMMANDS[p[1]];
    if (!build) throw new CliError(`credentials needs one of: ${Object.keys(CREDENTIAL_COMMANDS).join(", ")}`);
    return build(v, p);
  },
};

/** The key to check, piped on stdin (one line; surrounding whitespace dropped). */
async function keyFromStdin() {
  if (process.stdin.isTTY)
    throw new CliError('check reads the key from stdin: printf %s "$KEY" | npm run keys -- check');
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  const key = text.trim();
  if (!key) throw new CliError("check got no key on stdin");
  return key;
}

/** A credential id as a path segment. */
function requireCredentialId(positionals) {
  const id = positionals[2];
  if (!id) throw new CliError(`credentials ${positionals[1]} needs a credential id`);
  return encodeURIComponent(id);
}

const CREDENTIAL_COMMANDS = {
  create: (v) => ({
    method: "POST",
    path: "/credentials",
    body: {
      name: v.name,
      operations: list(v.operations),
      consumers: list(v.consumers),
      expires_in_days: int(v["expires-in-days"], "expires-in-days"),
    },
  }),
  list: (v) => ({ method: "GET", path: `/credentials${query({ limit: v.limit, cursor: v.cursor })}` }),
  get: (_v, p) => ({ method: "GET", path: `/credentials/${requireCredentialId(p)}` }),
  revoke: (v, p) => ({
    method: "POST",
    path: `/credentials/${requireCredentialId(p)}/revoke`,
    body: v.reason === undefined ? undefined : { reason: v.reason },
  }),
};

/**
 * A consumer id as a path segment. "." and ".." are no segment (a URL resolves them away, so
 * /consumers/../keys would be /keys): such an owner from before consumers is read with `consumers list --id`.
 */
function requireConsumerId(positionals) {
  const id = positionals[2];
  if (!id) throw new CliError(`consumers ${positionals[1]} needs a consumer id`);
  if (id === "." || id === "..") {
    throw new CliError(
      `"${id}" cannot be sent in a path: use \`consumers list --id ${id}\` (its keys: \`list --owner ${id}\`)`,
    );
  }
  return encodeURIComponent(id);
}

/** The settings flags of consumers create and update, as the API's snake_case body. */
const consumerBody = (v) => ({
  name: v.name,
  metadata: json(v.metadata, "metadata"),
  rate_limits: json(v.limits, "limits"),
  key_policy: json(v.policy, "policy"),
});

const CONSUMER_COMMANDS = {
  create: (v, p) => {
    const id = p[2];
    if (!id) throw new CliError("consumers create needs the new consumer's id");
    return { method: "POST", path: "/consumers", body: { id, ...consumerBody(v) } };
  },
  list: (v) => ({
    method: "GET",
    path: `/consumers${query({ id: v.id, status: v.status, limit: v.limit, cursor: v.cursor })}`,
  }),
  get: (_v, p) => ({ method: "GET", path: `/consumers/${requireConsumerId(p)}` }),
  update: (v, p) => ({ method: "PATCH", path: `/consumers/${requireConsumerId(p)}`, body: consumerBody(v) }),
  keys: (v, p) => ({
    method: "GET",
    path: `/consumers/${requireConsumerId(p)}/keys${query({ status: v.status, environment: v.env, q: v.search, limit: v.limit, cursor: v.cursor })}`,
  }),
  delete: (_v, p) => ({ method: "DELETE", path: `/consumers/${requireConsumerId(p)}` }),
  disable: (_v, p) => ({ method: "POST", path: `/consumers/${requireConsumerId(p)}/disable` }),
  enable: (_v, p) => ({ method: "POST", path: `/consumers/${requireConsumerId(p)}/enable` }),
  "revoke-keys": (v, p) => ({
    method: "POST",
    path: `/consumers/${requireConsumerId(p)}/revoke-keys`,
    body: v.reason === undefined ? undefined : { reason: v.reason },
  }),
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

const CONSUMER_COLUMNS = ["id", "status", "name", "rate_limits", "key_policy", "created_at", "updated_at"];
/** "day=10000/86400s" for each limit. */
const limitsCell = (limits) => (limits ?? []).map((l) => `${l.name}=${l.limit}/${l.window_seconds}s`).join(" ");
/** "max_active_keys=3 allowed_scopes=read,write" for each rule of a key policy. */
const policyCell = (policy) =>
  Object.entries(policy ?? {})
    .map(([rule, value]) => `${rule}=${rule === "default_rate_limits" ? limitsCell(value) : [value].flat().join(",")}`)
    .join(" ");
const consumerRow = (c) => ({ ...c, rate_limits: limitsCell(c.rate_limits), key_policy: policyCell(c.key_policy) });
/** "2000 of 2003 left" or "done <time>" for a revoke-keys job. */
const progressCell = (p) => (p ? (p.done_at ? `done ${p.done_at}` : `${p.remaining} of ${p.total} left`) : "");
const withMore = (out, cursor) => (cursor ? `${out}\n\nMore: --cursor ${cursor}` : out);

/** A key minted into Vault: where it went, the key, and the old key's grace end; no secret. */
function vaultMintedLines(result) {
  const lines = [
    "",
    `Stored in Vault at ${result.vault.path} (version ${result.vault.version}). The secret was not printed.`,
    "",
    table([keyRow(result.key)], KEY_COLUMNS),
  ];
  if (result.previous)
    lines.push("", `The previous key ${result.previous.id} keeps working until ${result.previous.grace_until}.`);
  return lines.join("\n");
}

const VAULT_STATUS_COLUMNS = ["path", "version", "key_id", "state", "detail"];

/** The states of `vault-status` that mean the path holds the key applications should be using. */
const CURRENT_STATES = new Set(["active"]);

/**
 * `create|rotate --vault` and `vault-status`: answers the exit code, or null when the command is not one of
 * them. vault-status exits 1 when a path holds anything but a current key, so a scheduled check can alert.
 */
async function vaultCommand(base, command, values, positionals) {
  if (command === "vault-status") {
    const rows = await vaultStatus(base, positionals.slice(1), process.env);
    console.log(values.json ? JSON.stringify({ paths: rows }, null, 2) : table(rows, VAULT_STATUS_COLUMNS));
    return rows.every((r) => CURRENT_STATES.has(r.state)) ? 0 : 1;
  }
  if (values.vault === undefined) return null;
  if (command !== "create" && command !== "rotate") throw new CliError("--vault is for create and rotate");
  const spec = COMMANDS[command](values, positionals);
  const result = await mintIntoVault(base, command, spec, values.vault, process.env);
  console.log(values.json ? JSON.stringify(result, null, 2) : vaultMintedLines(result));
  return 0;
}

const CREDENTIAL_COLUMNS = ["id", "status", "name", "operations", "consumers", "hint", "expires_at", "last_used_at"];
const credentialRow = (c) => ({
  ...c,
  operations: c.operations.join(" "),
  consumers: (c.consumers ?? ["*"]).join(" "),
});

function human(command, result, sub) {
  if (command === "check") {
    const verdict = result.valid ? "valid: the gateway would admit it" : `refused: ${result.code}`;
    const limits = result.limits.map((l) => `${l.name}=${l.remaining}/${l.limit}`).join(" ");
    return [verdict, `key_id: ${result.key_id ?? "(unknown)"}`, ...(limits ? [`remaining: ${limits}`] : [])].join("\n");
  }
  if (command === "credentials") {
    if (sub === "list")
      return withMore(table(result.credentials.map(credentialRow), CREDENTIAL_COLUMNS), result.next_cursor);
    if (sub === "create") {
      return [
        "",
        `  ${result.credential}`,
        "",
        "This is the only time the credential is shown. Store it where the automation reads it now.",
        "",
        table([credentialRow(result.details)], CREDENTIAL_COLUMNS),
      ].join("\n");
    }
    return table([credentialRow(result)], [...CREDENTIAL_COLUMNS, "created_by", "revoke_reason"]);
  }
  if (command === "consumers") {
    if (sub === "list") return withMore(table(result.consumers.map(consumerRow), CONSUMER_COLUMNS), result.next_cursor);
    if (sub === "keys") return withMore(table(result.keys.map(keyRow), KEY_COLUMNS), result.next_cursor);
    const row = { ...consumerRow(result), revoke_progress: progressCell(result.revoke_progress) };
    return table([row], [...CONSUMER_COLUMNS, "deleted_at", "revoke_progress"]);
  }
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
    const out = table(rows, ["at", "actor", "action", "key_id", "consumer_id", "request_id", "changes"]);
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
        .slice(1, HELP_LINES + 1)
        .map((l) => l.replace(/^\/\/ ?/, ""))
        .join("\n"),
    );
    return command || values.help ? 0 : 2;
  }
  const base = adminBase(values.url);
  const vaultExit = await vaultCommand(base, command, values, positionals);
  if (vaultExit !== null) return vaultExit;
  const build = COMMANDS[command];
  if (!build) throw new CliError(`Unknown command "${command}". Commands: ${Object.keys(COMMANDS).join(", ")}`);
  const result = await request(base, await build(values, positionals));
  console.log(values.json ? JSON.stringify(result, null, 2) : human(command, result, positionals[1]));
  return 0;
}

runCli(main);
