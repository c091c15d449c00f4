// A client for the HTTP API of Vault's KV secrets engine, version 2: what `npm run keys -- … --vault` and
// `vault-status` need (read a secret, read its metadata, write with check-and-set), and nothing else.
// Node's fetch, no SDK: three requests do not justify a dependency. The protocol is HashiCorp's documented one
// (developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2); see ./README.md for what was checked and how.
import { CliError } from "../../scripts/cli.mjs";

/**
 * A Vault that has not answered in this long is treated as down. Before a key is minted that means nothing
 * is minted; after, the new key is revoked (a write that timed out may still have landed: then Vault holds a
 * revoked key, which `vault-status` shows, and never a working key nobody knows is there).
 */
const VAULT_TIMEOUT_MS = 10_000;
/** How much of Vault's error list a message quotes (its errors name a cause, never a secret). */
const MAX_VAULT_ERRORS = 3;

/** A refused or failed Vault request: the status (0 when Vault was not reached) and Vault's error list. */
class VaultError extends CliError {
  constructor(message, { status = 0, errors = [] } = {}) {
    super(message);
    this.status = status;
    this.errors = errors;
  }
}

/** Whether a host is this machine: the only place Vault may be reached over plain http. */
const isLoopback = (hostname) =>
  hostname === "localhost" || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);

/**
 * Where Vault is and how to call it, from the variables Vault's own CLI reads: VAULT_ADDR, VAULT_TOKEN and
 * VAULT_NAMESPACE (Vault Enterprise and HCP; sent as X-Vault-Namespace when set). Plain http only to
 * loopback: the token and the key would otherwise cross the network in the clear.
 * @example const vault = kvClient(vaultSettings(process.env));
 */
export function vaultSettings(env) {
  const addr = env.VAULT_ADDR?.trim();
  if (!addr) throw new CliError("--vault needs VAULT_ADDR (e.g. https://vault.example.com:8200)");
  let url;
  try {
    url = new URL(addr);
  } catch {
    throw new CliError("VAULT_ADDR is not a URL");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname)))
    throw new CliError("VAULT_ADDR must be https:// (plain http:// only to this machine)");
  if (!env.VAULT_TOKEN) throw new CliError("--vault needs VAULT_TOKEN");
  const namespace = env.VAULT_NAMESPACE?.trim() || null;
  return { addr: url.origin + url.pathname.replace(/\/+$/, ""), token: env.VAULT_TOKEN, namespace };
}

/** One path segment of a KV path: no empty, `.` or `..` segment (a URL would resolve them elsewhere). */
const SEGMENT = /^(?!\.{1,2}$)[^/?#%\\\u0000-\u001f\u007f]+$/;

/**
 * A KV v2 data path as Vault's API names it, `<mount>/data/<path>`: the mount (which may itself hold
 * slashes) is everything before the first `/data/`, the secret's path everything after.
 * @example parseKvPath("kv/data/team-a/payments") // { mount: "kv", path: "team-a/payments", label: "kv/data/team-a/payments" }
 */
export function parseKvPath(text) {
  const trimmed = String(text ?? "").replace(/^\/+|\/+$/g, "");
  const at = trimmed.indexOf("/data/");
  const mount = trimmed.slice(0, at);
  const path = trimmed.slice(at + "/data/".length);
  const ok = at > 0 && path !== "" && [...mount.split("/"), ...path.split("/")].every((s) => SEGMENT.test(s));
  if (!ok) throw new CliError(`"${text}" is not a KV v2 data path like kv/data/team-a/payments`);
  return { mount, path, label: `${mount}/data/${path}` };
}

/**
 * Vault's "no secret here": 404 with an empty error list. A 404 that names an error ("no handler for route":
 * no KV mount at that path) is a refusal, so a mistyped mount fails before a key is minted.
 */
const isNoSecret = (status, body) => status === 404 && Array.isArray(body?.errors) && body.errors.length === 0;

const encodePath = (path) => path.split("/").map(encodeURIComponent).join("/");

/** "Vault refused … (403: permission denied)" from Vault's `{ errors: [...] }` body. */
function vaultFailure(what, status, body) {
  const errors = Array.isArray(body?.errors) ? body.errors.map(String) : [];
  const said = errors.slice(0, MAX_VAULT_ERRORS).join("; ");
  return new VaultError(`Vault refused to ${what} (${status}${said ? `: ${said}` : ""})`, { status, errors });
}

/**
 * The three KV v2 requests, for one Vault. Every failure is a VaultError saying what was refused and why, in
 * Vault's words; neither the token nor a secret is ever in one.
 */
export function kvClient({ addr, token, namespace }) {
  async function call(method, url, what, body) {
    const headers = { "X-Vault-Token": token };
    if (namespace) headers["X-Vault-Namespace"] = namespace;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(VAULT_TIMEOUT_MS),
      });
    } catch (error) {
      const cause =
        error?.name === "TimeoutError"
          ? `no answer in ${VAULT_TIMEOUT_MS / 1000} s`
          : (error.cause?.code ?? error.message);
      throw new VaultError(`Cannot reach Vault at ${addr} to ${what}: ${cause}`);
    }
    const text = await response.text();
    let parsed = null;
    try {
      parsed = text === "" ? null : JSON.parse(text);
    } catch {
      // A proxy's HTML error page, say: the status is all there is to tell.
    }
    return { status: response.status, body: parsed };
  }

  const dataUrl = ({ mount, path }) => `${addr}/v1/${encodePath(mount)}/data/${encodePath(path)}`;
  const metadataUrl = ({ mount, path }) => `${addr}/v1/${encodePath(mount)}/metadata/${encodePath(path)}`;

  return {
    /**
     * The version a check-and-set write must name: the secret's `current_version` (soft-deleted versions
     * count), 0 when Vault has no secret at the path.
     */
    async currentVersion(kv) {
      const what = `read the metadata of ${kv.label}`;
      const { status, body } = await call("GET", metadataUrl(kv), what);
      if (isNoSecret(status, body)) return 0;
      const version = body?.data?.current_version;
      if (status !== 200) throw vaultFailure(what, status, body);
      if (!Number.isInteger(version)) throw new VaultError(`Vault's metadata of ${kv.label} has no current_version`);
      return version;
    },

    /**
     * Writes `data` as a new version, only if the secret's current version is still `cas` (Vault answers 400
     * otherwise: someone wrote meanwhile). Answers the new version.
     */
    async write(kv, data, cas) {
      const what = `write ${kv.label}`;
      const { status, body } = await call("POST", dataUrl(kv), what, { options: { cas }, data });
      if (status !== 200 && status !== 204) throw vaultFailure(what, status, body);
      // KV version 1 takes the same request (storing at a literal "data/…" path, check-and-set ignored) and
      // answers 204 without a version: a write that cannot have been checked is a failed one.
      const version = body?.data?.version;
      if (!Number.isInteger(version))
        throw new VaultError(`Vault stored ${kv.label} without a version: is ${kv.mount} a KV version 2 mount?`);
      return version;
    },

    /** The secret's latest version, `{ data, version }`, or null when there is none (or it is deleted). */
    async read(kv) {
      const what = `read ${kv.label}`;
      const { status, body } = await call("GET", dataUrl(kv), what);
      if (isNoSecret(status, body) || (status === 404 && body?.data?.metadata?.deletion_time)) return null;
      if (status !== 200) throw vaultFailure(what, status, body);
      const data = body?.data?.data;
      return data && typeof data === "object" ? { data, version: body.data.metadata?.version ?? null } : null;
    },
  };
}

/** Whether a Vault error is the check-and-set refusal: another writer came first. */
export const isCasMismatch = (error) =>
  error instanceof VaultError && error.status === 400 && error.errors.some((e) => e.includes("check-and-set"));
