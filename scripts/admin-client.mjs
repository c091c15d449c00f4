// The admin API from the leak CLIs (scan.mjs, leaks.mjs): where it is, its token, and one JSON request.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";

export class CliError extends Error {}

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

/** POSTs a body to /admin/v1<path>; answers the parsed JSON or throws a CliError naming the problem. */
export async function adminPost(base, path, body, contentType = "application/json") {
  let response;
  try {
    response = await fetch(`${base}/admin/v1${path}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${adminToken()}`, "Content-Type": contentType },
      body,
    });
  } catch (error) {
    throw new CliError(`Cannot reach ${base}: ${error.cause?.code ?? error.message}. Is the authorizer running (npm start)?`);
  }
  const text = await response.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { raw: text };
  }
  if (!response.ok) {
    const details = (parsed.errors ?? []).slice(0, 20).map((e) => `\n  ${e.path || "(body)"}: ${e.message}`).join("");
    throw new CliError(`${response.status} ${parsed.code ?? ""}: ${parsed.title ?? text}${details}`);
  }
  return parsed;
}

/** "revoked 1, no_match 2" from an ingest answer's counts, leaving out zeros. */
export const countsLine = (counts) =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name} ${n}`)
    .join(", ") || "nothing";
