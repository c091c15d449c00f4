// The admin API from the CLIs (keys.mjs, report.mjs, scan.mjs, leaks.mjs): where it is, its token, and one request.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { CliError } from "./cli.mjs";

/** --url, else $AUTHORIZER_URL, else the local `npm start` server. */
export const adminBase = (url) => (url ?? process.env.AUTHORIZER_URL ?? "http://127.0.0.1:8787").replace(/\/$/, "");

/** $ADMIN_TOKEN, or the one in .dev.vars (what `npm start` creates). */
export function adminToken() {
  if (process.env.ADMIN_TOKEN) return process.env.ADMIN_TOKEN;
  const devVars = resolve(import.meta.dirname, "..", ".dev.vars");
  if (existsSync(devVars)) {
    const match = /^\s*ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?\s*$/m.exec(readFileSync(devVars, "utf8"));
    if (match) return match[1];
  }
  throw new CliError("No admin token: set ADMIN_TOKEN, or run `npm start` once to create .dev.vars.");
}

/** How many of a refusal's field errors a CLI prints (an invalid report can have thousands). */
const MAX_ERROR_LINES = 20;

/** A CliError for a refused admin call: status, problem code, title and field errors; the parsed body on `.body`. */
function refusal(status, text) {
  let problem;
  try {
    problem = JSON.parse(text);
  } catch {
    problem = { raw: text };
  }
  const details = (problem.errors ?? [])
    .slice(0, MAX_ERROR_LINES)
    .map((e) => `\n  ${e.path || "(body)"}: ${e.message}`)
    .join("");
  const error = new CliError(`${status} ${problem.code ?? ""}: ${problem.title ?? text}${details}`);
  error.body = problem;
  return error;
}

/**
 * Sends one request to /admin/v1<path> with the admin token; answers the response text, or throws a CliError
 * naming the problem (no token, unreachable, refused). `body` is sent as is, with `contentType`.
 * @example const markdown = await adminRequest(adminBase(url), "/report?format=markdown");
 */
export async function adminRequest(base, path, { method = "GET", body, contentType = "application/json" } = {}) {
  const token = adminToken();
  let response;
  try {
    response = await fetch(`${base}/admin/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "Content-Type": contentType }) },
      body,
    });
  } catch (error) {
    throw new CliError(
      `Cannot reach ${base}: ${error.cause?.code ?? error.message}. Is the authorizer running (npm start)?`,
    );
  }
  const text = await response.text();
  if (!response.ok) throw refusal(response.status, text);
  return text;
}

/** `adminRequest`, its answer parsed as JSON (`{ raw }` when it is not JSON). */
export async function adminJson(base, path, options) {
  const text = await adminRequest(base, path, options);
  try {
    return JSON.parse(text);
  } catch {
    return { raw: text };
  }
}

/** POSTs a body to /admin/v1<path>; answers the parsed JSON or throws a CliError naming the problem. */
export const adminPost = (base, path, body, contentType = "application/json") =>
  adminJson(base, path, { method: "POST", body, contentType });

/** "revoked 1, no_match 2" from an ingest answer's counts, leaving out zeros. */
export const countsLine = (counts) =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name} ${n}`)
    .join(", ") || "nothing";
