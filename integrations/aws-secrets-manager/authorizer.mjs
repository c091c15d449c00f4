// The authorizer's admin API as the rotation function uses it: rotate with a deferred grace, start the grace,
// check a key. The credential is sent to AUTHORIZER_URL only (no redirects followed); no key, credential or
// answer body is ever put in an error message, only the status and the problem code.

/** A refusal or failure of the admin API: its status and problem code (null when it answered no problem). */
export class AuthorizerError extends Error {
  name = "AuthorizerError";
  /**
   * @param {string} operation
   * @param {number} status
   * @param {string | null} code
   */
  constructor(operation, status, code) {
    super(`authorizer ${operation}: ${status}${code === null ? "" : ` ${code}`}`);
    this.status = status;
    this.code = code;
  }
}

/**
 * A client of the admin API at `baseUrl`, authenticated with the bearer `credential`.
 * @param {{ baseUrl: URL; credential: string; timeoutMs: number; fetch?: typeof fetch }} options
 * @example const api = authorizerClient({ baseUrl: new URL("https://auth.example.com"), credential, timeoutMs: 10_000 });
 */
export function authorizerClient({ baseUrl, credential, timeoutMs, fetch: fetchImpl = fetch }) {
  /**
   * @param {string} operation what the error names
   * @param {string} path under /admin/v1
   * @param {unknown} body
   */
  async function post(operation, path, body) {
    let response;
    try {
      response = await fetchImpl(new URL(`/admin/v1${path}`, baseUrl), {
        method: "POST",
        headers: { Authorization: `Bearer ${credential}`, "Content-Type": "application/json" },
        body: JSON.stringify(body),
        redirect: "error",
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new AuthorizerError(operation, 0, /** @type {Error} */ (error).name);
    }
    const json = await response.json().catch(() => null);
    if (!response.ok) throw new AuthorizerError(operation, response.status, json?.code ?? null);
    return json;
  }

  return {
    /**
     * Mints the successor of `keyId` with a deferred grace; `rotationToken` makes a retry replace a
     * successor whose secret was lost.
     * @param {string} keyId
     * @param {{ rotationToken: string; graceHours: number; expiresInDays?: number }} options
     * @returns {Promise<{ api_key: string; key: { id: string }; previous: { id: string; grace_until: string | null } }>}
     */
    rotate: (keyId, { rotationToken, graceHours, expiresInDays }) =>
      post("rotate", `/keys/${encodeURIComponent(keyId)}/rotate`, {
        defer_grace: true,
        rotation_token: rotationToken,
        // Labels the audit rows, for the security report's "Secret managers" row.
        secret_store: "aws-secrets-manager",
        grace_period_hours: graceHours,
        ...(expiresInDays === undefined ? {} : { expires_in_days: expiresInDays }),
      }),
    /**
     * Starts the old key's grace (idempotent: a retry answers the same grace end).
     * @param {string} keyId
     * @returns {Promise<{ id: string; grace_until: string | null }>}
     */
    startGrace: (keyId) => post("start-grace", `/keys/${encodeURIComponent(keyId)}/start-grace`, {}),
    /**
     * What the gateway would answer this key with; nothing spent, counted or alerted.
     * @param {{ api_key: string; method?: string; path?: string }} request
     * @returns {Promise<{ valid: boolean; code: string | null; key_id: string | null }>}
     */
    check: (request) => post("check", "/keys/check", request),
  };
}
