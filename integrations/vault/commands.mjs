// `npm run keys -- create|rotate … --vault <mount>/data/<path>` and `npm run keys -- vault-status <path>…`:
// a new key goes straight from the admin API's answer into Vault, and never to the terminal.
//
// The order is what keeps a secret from existing only in a terminal's scrollback, or a key working that no
// secret manager holds:
//   1. Read the path's current version from Vault (0 for a new path). Vault down or refusing: nothing minted.
//   2. Mint the key (a rotation with `defer_grace`: the old key stays fully valid), labelled secret_store "vault".
//   3. Write { key_id, api_key } with check-and-set on that version, so a concurrent writer is never overwritten.
//   4. Written: for a rotation, start the old key's grace now. Not written: revoke the new key at once (for a
//      rotation the old key then stays current, as if nothing happened) and fail.
import { adminJson } from "../../scripts/admin-client.mjs";
import { CliError } from "../../scripts/cli.mjs";
import { isCasMismatch, kvClient, parseKvPath, vaultSettings } from "./kv-v2.mjs";

/** The reason on a key revoked because it could not be stored (the audit log and `get` show it). */
const REVOKE_REASON = "not stored in Vault: the write failed";

const post = (base, path, body) => adminJson(base, path, { method: "POST", body: JSON.stringify(body) });

/** Revokes a key whose secret reached no one, and throws what happened; never the secret. */
async function revokeUnstored(base, keyId, kv, cause) {
  const why = isCasMismatch(cause)
    ? `someone else wrote ${kv.label} after it was read (check-and-set refused the write; nothing was overwritten)`
    : cause.message;
  try {
    await post(base, `/keys/${encodeURIComponent(keyId)}/revoke`, { reason: REVOKE_REASON });
  } catch (revokeError) {
    throw new CliError(
      `The new key ${keyId} was not stored in Vault: ${why}.\nRevoking it failed too (${revokeError.message}): ` +
        `revoke it now with \`npm run keys -- revoke ${keyId}\`. Its secret was not printed and is lost.`,
    );
  }
  throw new CliError(`The new key ${keyId} was not stored in Vault, and is revoked: ${why}.`);
}

/**
 * Steps 1–4 above for `create` or `rotate`, `spec` being the command's request. Answers `{ key, previous?, vault: { path, version } }`, never
 * the secret.
 * @example await mintIntoVault(base, "create", { method: "POST", path: "/keys", body }, "kv/data/a", process.env)
 */
export async function mintIntoVault(base, command, spec, kvText, env) {
  const kv = parseKvPath(kvText);
  const vault = kvClient(vaultSettings(env));
  const cas = await vault.currentVersion(kv);
  const body = { ...spec.body, secret_store: "vault" };
  // The rotation keeps its grace hours for start-grace, which uses them once the successor is stored.
  if (command === "rotate") body.defer_grace = true;
  const clean = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
  const minted = await adminJson(base, spec.path, { method: spec.method, body: JSON.stringify(clean) });
  let version;
  try {
    version = await vault.write(kv, { key_id: minted.key.id, api_key: minted.api_key }, cas);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    await revokeUnstored(base, minted.key.id, kv, error);
  }
  const result = { key: minted.key, vault: { path: kv.label, version } };
  if (command !== "rotate") return result;
  const oldId = minted.previous.id;
  try {
    const started = await post(base, `/keys/${encodeURIComponent(oldId)}/start-grace`, {});
    return { ...result, previous: { id: oldId, grace_until: started.grace_until } };
  } catch (error) {
    throw new CliError(
      `The new key ${minted.key.id} is in Vault at ${kv.label} (version ${version}), but the grace period of ` +
        `${oldId} did not start (${error.message}): it keeps working with no end until you run ` +
        `\`npm run keys -- start-grace ${oldId}\` (its grace is then the one this rotation asked for).`,
    );
  }
}

/** What a stored key's admin view says about it, in a word and a detail. */
function keyState(key) {
  if (key.status !== "active") return { state: key.status, detail: "" };
  if (key.rotated_to && key.grace_until)
    return { state: "grace", detail: `works until ${key.grace_until}; rotated to ${key.rotated_to}` };
  if (key.rotated_to) return { state: "rotating", detail: `rotated to ${key.rotated_to}; its grace has not started` };
  return { state: "active", detail: `expires ${key.expires_at}` };
}

/** A key id as the admin API writes it (keys/key-record.ts); anything else at a path is not one of its keys. */
const KEY_ID = /^key_[0-9A-Za-z]{22}$/;

/** One path's row: what Vault holds there and what the authorizer says of that key. */
async function pathStatus(base, vault, kv) {
  const stored = await vault.read(kv);
  const row = { path: kv.label, version: stored?.version ?? null, key_id: null };
  if (!stored) return { ...row, state: "empty", detail: "Vault holds no secret here" };
  const keyId = stored.data.key_id;
  if (typeof keyId !== "string" || !KEY_ID.test(keyId))
    return { ...row, state: "unknown", detail: "the secret has no key_id of this authorizer" };
  try {
    const key = await adminJson(base, `/keys/${keyId}`);
    return { ...row, key_id: keyId, ...keyState(key), expires_at: key.expires_at, grace_until: key.grace_until };
  } catch (error) {
    if (error.body?.code !== "key_not_found") throw error;
    return { ...row, key_id: keyId, state: "unknown", detail: "no such key in this authorizer" };
  }
}

/**
 * Which key each Vault path holds and its state: `active` (current), `grace` (rotated, working until its
 * grace end: the path should hold its successor by then), `rotating` (rotated, grace not started), `disabled`,
 * `revoked`, `expired`, `empty` or `unknown`. Reads the secret at each path but keeps only its key_id.
 */
export async function vaultStatus(base, paths, env) {
  if (paths.length === 0) throw new CliError("vault-status needs one or more paths, e.g. kv/data/team-a/payments");
  const kvs = paths.map(parseKvPath);
  const vault = kvClient(vaultSettings(env));
  const rows = [];
  for (const kv of kvs) rows.push(await pathStatus(base, vault, kv));
  return rows;
}
