// The four steps of a Secrets Manager rotation for a secret whose value is { "key_id": …, "api_key": … }
// (README.md beside this file). Each step is safe to run again with the same event: Secrets Manager retries a
// failed rotation with the same ClientRequestToken, and this function passes that token to the authorizer as
// the rotation's `rotation_token`, so a retry after a lost successor replaces it instead of failing.
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { AuthorizerError, authorizerClient } from "./authorizer.mjs";

const CURRENT = "AWSCURRENT";
const PENDING = "AWSPENDING";
const PREVIOUS = "AWSPREVIOUS";
const STEPS = ["createSecret", "setSecret", "testSecret", "finishSecret"];
/** How long one admin API call may take: well inside the function's own timeout (README: 60 s). */
const DEFAULT_AUTHORIZER_TIMEOUT_MS = 10_000;
const DEFAULT_GRACE_HOURS = 24;

/** A rotation that cannot go on: the message says why and what to do; it never holds a key. */
class RotationError extends Error {
  name = "RotationError";
}

/**
 * The function's settings, from its environment variables (README.md#settings). Throws a RotationError
 * naming the first one that is missing or malformed.
 * @param {Record<string, string | undefined>} env
 */
export function readSettings(env) {
  const required = (name) => {
    const value = env[name]?.trim();
    if (!value) throw new RotationError(`${name} is not set`);
    return value;
  };
  const integer = (name, fallback, min, max) => {
    const text = env[name]?.trim();
    if (!text) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max)
      throw new RotationError(`${name} must be an integer from ${min} to ${max}`);
    return value;
  };
  let baseUrl;
  try {
    baseUrl = new URL(required("AUTHORIZER_URL"));
  } catch (error) {
    if (error instanceof RotationError) throw error;
    throw new RotationError("AUTHORIZER_URL is not a URL");
  }
  // The credential goes in every request: only over TLS, except to this machine (the tests' local authorizer).
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(baseUrl.hostname);
  if (baseUrl.protocol !== "https:" && !(baseUrl.protocol === "http:" && loopback))
    throw new RotationError("AUTHORIZER_URL must be https://");
  const expiresInDays = integer("KEY_EXPIRES_IN_DAYS", undefined, 1, 3650);
  return {
    baseUrl,
    credentialSecretId: required("AUTHORIZER_CREDENTIAL_SECRET_ARN"),
    graceHours: integer("GRACE_PERIOD_HOURS", DEFAULT_GRACE_HOURS, 0, 720),
    expiresInDays,
    timeoutMs: integer("AUTHORIZER_TIMEOUT_MS", DEFAULT_AUTHORIZER_TIMEOUT_MS, 100, 60_000),
    checkMethod: env.CHECK_METHOD?.trim() || undefined,
    checkPath: env.CHECK_PATH?.trim() || undefined,
    secretsManagerEndpoint: env.SECRETS_MANAGER_ENDPOINT?.trim() || undefined,
  };
}

/** One JSON log line (CloudWatch Logs): ids, steps and outcomes only; callers never pass a key or credential. */
const jsonLog = (level, msg, fields) => {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "error") console.error(line);
  else console.log(line);
};

/**
 * The rotation function: `(event) => Promise<void>`, one step per invocation.
 * @param {{ env?: Record<string, string | undefined>; client?: SecretsManagerClient; fetch?: typeof fetch;
 *   log?: (level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown>) => void }} [options]
 * @example export const handler = createRotationHandler();
 */
export function createRotationHandler({ env = process.env, client, fetch: fetchImpl, log = jsonLog } = {}) {
  const settings = readSettings(env);
  const sm =
    client ??
    new SecretsManagerClient(settings.secretsManagerEndpoint ? { endpoint: settings.secretsManagerEndpoint } : {});

  /** The parsed { key_id, api_key, … } of one version; throws if it is not that shape. */
  async function secretValue(arn, select) {
    const out = await sm.send(new GetSecretValueCommand({ SecretId: arn, ...select }));
    let value;
    try {
      value = JSON.parse(out.SecretString ?? "");
    } catch {
      value = null;
    }
    if (typeof value?.key_id !== "string" || typeof value?.api_key !== "string")
      throw new RotationError(`version ${out.VersionId} is not {"key_id", "api_key"} JSON`);
    return value;
  }

  /** Read for each invocation, so a rotated credential is picked up at once. */
  async function authorizer() {
    const out = await sm.send(new GetSecretValueCommand({ SecretId: settings.credentialSecretId }));
    const credential = out.SecretString?.trim();
    if (!credential) throw new RotationError("the credential secret is empty");
    return authorizerClient({ baseUrl: settings.baseUrl, credential, timeoutMs: settings.timeoutMs, fetch: fetchImpl });
  }

  async function createSecret(arn, token, fields) {
    const current = await secretValue(arn, { VersionStage: CURRENT });
    try {
      await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionId: token, VersionStage: PENDING }));
      log("info", "createSecret: the pending version exists", fields);
      return;
    } catch (error) {
      if (error.name !== "ResourceNotFoundException") throw error;
    }
    const api = await authorizer();
    let rotated;
    try {
      // The same token on a retry: a successor minted before a failed PutSecretValue is revoked and replaced.
      rotated = await api.rotate(current.key_id, {
        rotationToken: token,
        graceHours: settings.graceHours,
        expiresInDays: settings.expiresInDays,
      });
    } catch (error) {
      if (error instanceof AuthorizerError && error.code === "key_state_conflict") {
        throw new RotationError(
          `createSecret: key ${current.key_id} cannot be rotated: it is not live, or it has a live successor from ` +
            "another rotation (revoke that successor, named by the key's rotated_to, to rotate it again)",
        );
      }
      throw error;
    }
    if (rotated.previous.id !== current.key_id)
      throw new RotationError("createSecret: the authorizer rotated another key");
    log("info", "createSecret: successor minted", { ...fields, key_id: current.key_id, successor_id: rotated.key.id });
    // Other fields of the secret's value are kept as they are.
    const value = { ...current, key_id: rotated.key.id, api_key: rotated.api_key };
    await sm.send(
      new PutSecretValueCommand({
        SecretId: arn,
        ClientRequestToken: token,
        SecretString: JSON.stringify(value),
        VersionStages: [PENDING],
      }),
    );
    log("info", "createSecret: pending version stored", { ...fields, successor_id: rotated.key.id });
  }

  async function testSecret(arn, token, fields) {
    const pending = await secretValue(arn, { VersionId: token, VersionStage: PENDING });
    const api = await authorizer();
    const answer = await api.check({
      api_key: pending.api_key,
      ...(settings.checkMethod ? { method: settings.checkMethod } : {}),
      ...(settings.checkPath ? { path: settings.checkPath } : {}),
    });
    if (!answer.valid || answer.key_id !== pending.key_id) {
      log("error", "testSecret: the pending key is refused", { ...fields, key_id: pending.key_id, code: answer.code });
      throw new RotationError(`testSecret: the authorizer refuses the pending key ${pending.key_id} (${answer.code})`);
    }
    log("info", "testSecret: the pending key is valid", { ...fields, key_id: pending.key_id });
  }

  /** Starts the old key's grace; the new version is what applications read from now on. */
  async function startGrace(oldKeyId, fields) {
    const api = await authorizer();
    const started = await api.startGrace(oldKeyId);
    log("info", "finishSecret: the old key's grace started", {
      ...fields,
      key_id: oldKeyId,
      grace_until: started.grace_until,
    });
  }

  async function finishSecret(arn, token, fields, versions) {
    const currentVersion = Object.keys(versions).find((id) => versions[id].includes(CURRENT));
    const old = await secretValue(arn, { VersionStage: CURRENT });
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: arn,
        VersionStage: CURRENT,
        MoveToVersionId: token,
        RemoveFromVersionId: currentVersion,
      }),
    );
    log("info", "finishSecret: the new version is current", { ...fields, previous_version: currentVersion });
    // After the label moved, not before: applications pick the new key up only from here on.
    await startGrace(old.key_id, fields);
  }

  return async function rotationHandler(event) {
    const arn = event?.SecretId;
    const token = event?.ClientRequestToken;
    const step = event?.Step;
    if (typeof arn !== "string" || typeof token !== "string" || !STEPS.includes(step))
      throw new RotationError("the event needs SecretId, ClientRequestToken and a Step of the four");
    const fields = { step, secret: arn, version: token };
    const metadata = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
    if (!metadata.RotationEnabled) throw new RotationError(`${step}: rotation is not enabled for the secret`);
    const versions = metadata.VersionIdsToStages ?? {};
    const stages = versions[token];
    if (!stages) throw new RotationError(`${step}: version ${token} has no stage for rotation`);
    if (stages.includes(CURRENT)) {
      if (step === "finishSecret") {
        // A finish that moved the label but did not start the grace (it failed, or timed out) completes here;
        // once started, the authorizer answers the same grace end again.
        const previous = Object.keys(versions).find((id) => versions[id].includes(PREVIOUS));
        if (previous !== undefined) await startGrace((await secretValue(arn, { VersionId: previous })).key_id, fields);
      }
      log("info", `${step}: the version is already current`, fields);
      return;
    }
    if (!stages.includes(PENDING)) throw new RotationError(`${step}: version ${token} is not ${PENDING}`);
    switch (step) {
      case "createSecret":
        return createSecret(arn, token, fields);
      case "setSecret":
        // Nothing to set: the authorizer minted the successor in createSecret and holds its hash already; a
        // key cannot be set from outside it.
        log("info", "setSecret: nothing to do, the authorizer holds the successor", fields);
        return;
      case "testSecret":
        return testSecret(arn, token, fields);
      case "finishSecret":
        return finishSecret(arn, token, fields, versions);
    }
  };
}
