// A local stand-in for the four AWS Secrets Manager operations the rotation function uses (GetSecretValue,
// DescribeSecret, PutSecretValue, UpdateSecretVersionStage), written from AWS's API reference, since no AWS
// emulator is reachable from these machines (integrations/aws-secrets-manager/README.md says what to check
// once against real AWS). It speaks the JSON 1.1 protocol the real SDK sends: POST /, `X-Amz-Target:
// secretsmanager.<Op>`, `Content-Type: application/x-amz-json-1.1`, a SigV4 `Authorization` for the
// secretsmanager service, and errors as HTTP 400 (500 for InternalServiceError) with a `__type` body. And it
// keeps the staging rules: a label is on one version at a time; moving AWSCURRENT moves AWSPREVIOUS to the
// version it left; PutSecretValue is idempotent per ClientRequestToken (the same value again changes nothing,
// another value is ResourceExistsException); a version without labels is not listed by DescribeSecret.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";

const CURRENT = "AWSCURRENT";
const PENDING = "AWSPENDING";
const PREVIOUS = "AWSPREVIOUS";
const REGION = "us-east-1";
const ACCOUNT = "123456789012";

class AwsError extends Error {
  constructor(type, message, status = 400) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

/**
 * Starts the stand-in on a free loopback port.
 * @example const sm = await startSecretsManagerStandIn(); after(() => sm.stop());
 */
export async function startSecretsManagerStandIn() {
  /** name → { arn, name, rotationEnabled, versions: Map<id, { stages: Set<string>, value?: string }> } */
  const secrets = new Map();
  /** Operation → the error it answers until `heal` (a fault the test injects). */
  const faults = new Map();
  /** Every call, in order: { op, input }. */
  const calls = [];

  const find = (secretId) => {
    for (const secret of secrets.values()) if (secret.arn === secretId || secret.name === secretId) return secret;
    throw new AwsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
  };
  const holder = (secret, stage) => [...secret.versions].find(([, v]) => v.stages.has(stage))?.[0];
  /** Attaches `stage` to version `id`, taking it from wherever it was (AWSCURRENT leaves AWSPREVIOUS behind). */
  const attach = (secret, stage, id) => {
    const from = holder(secret, stage);
    if (from === id) return;
    if (from !== undefined) secret.versions.get(from).stages.delete(stage);
    secret.versions.get(id).stages.add(stage);
    if (stage === CURRENT && from !== undefined) attach(secret, PREVIOUS, from);
  };
  const requireString = (input, name) => {
    if (typeof input[name] !== "string" || input[name] === "")
      throw new AwsError("InvalidParameterException", `${name} is required.`);
    return input[name];
  };

  const operations = {
    GetSecretValue(input) {
      const secret = find(requireString(input, "SecretId"));
      const { VersionId: versionId, VersionStage: stage } = input;
      const id = versionId ?? holder(secret, stage ?? CURRENT);
      const version = id === undefined ? undefined : secret.versions.get(id);
      if (!version || (stage !== undefined && !version.stages.has(stage)) || version.value === undefined) {
        throw new AwsError(
          "ResourceNotFoundException",
          "Secrets Manager can't find the specified secret value for VersionId or VersionStage.",
        );
      }
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: id,
        SecretString: version.value,
        VersionStages: [...version.stages],
        CreatedDate: version.createdAt / 1000,
      };
    },
    DescribeSecret(input) {
      const secret = find(requireString(input, "SecretId"));
      const staged = [...secret.versions].filter(([, v]) => v.stages.size > 0);
      return {
        ARN: secret.arn,
        Name: secret.name,
        RotationEnabled: secret.rotationEnabled,
        VersionIdsToStages: Object.fromEntries(staged.map(([id, v]) => [id, [...v.stages]])),
      };
    },
    PutSecretValue(input) {
      const secret = find(requireString(input, "SecretId"));
      const token = requireString(input, "ClientRequestToken");
      if (token.length < 32 || token.length > 64)
        throw new AwsError("InvalidParameterException", "ClientRequestToken must be 32 to 64 characters.");
      const value = requireString(input, "SecretString");
      const stages = input.VersionStages ?? [CURRENT];
      const existing = secret.versions.get(token);
      if (existing?.value !== undefined) {
        if (existing.value !== value)
          throw new AwsError("ResourceExistsException", "A resource with the ID you requested already exists.");
      } else if (existing) {
        existing.value = value; // the empty version a rotation started
      } else {
        secret.versions.set(token, { stages: new Set(), value, createdAt: Date.now() });
      }
      for (const stage of stages) attach(secret, stage, token);
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: token,
        VersionStages: [...secret.versions.get(token).stages],
      };
    },
    UpdateSecretVersionStage(input) {
      const secret = find(requireString(input, "SecretId"));
      const stage = requireString(input, "VersionStage");
      const { MoveToVersionId: moveTo, RemoveFromVersionId: removeFrom } = input;
      const from = holder(secret, stage);
      if (moveTo !== undefined && !secret.versions.has(moveTo))
        throw new AwsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret version.");
      // The label is on a version other than the one it moves to: the caller must name that version.
      if (from !== undefined && from !== moveTo && removeFrom !== from) {
        throw new AwsError(
          "InvalidParameterException",
          `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is attached to version ${from}, so you must explicitly reference that version in RemoveFromVersionId.`,
        );
      }
      if (removeFrom !== undefined && from !== removeFrom)
        throw new AwsError("InvalidParameterException", `Staging label ${stage} is not attached to ${removeFrom}.`);
      if (moveTo !== undefined) attach(secret, stage, moveTo);
      else secret.versions.get(removeFrom).stages.delete(stage);
      return { ARN: secret.arn, Name: secret.name };
    },
  };

  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const answer = (status, body) => {
      res.writeHead(status, { "Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": randomUUID() });
      res.end(JSON.stringify(body));
    };
    try {
      const target = String(req.headers["x-amz-target"] ?? "");
      const op = target.startsWith("secretsmanager.") ? target.slice("secretsmanager.".length) : "";
      if (req.method !== "POST" || req.url !== "/" || !Object.hasOwn(operations, op))
        throw new AwsError("UnknownOperationException", `unknown operation ${target}`);
      if (req.headers["content-type"] !== "application/x-amz-json-1.1")
        throw new AwsError("SerializationException", "Content-Type must be application/x-amz-json-1.1");
      const auth = String(req.headers.authorization ?? "");
      if (!/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/secretsmanager\/aws4_request, /.test(auth))
        throw new AwsError("IncompleteSignature", "the request is not signed with SigV4 for secretsmanager");
      const input = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
      calls.push({ op, input });
      const fault = faults.get(op);
      if (fault) throw fault;
      answer(200, operations[op](input));
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      answer(error.status, { __type: error.type, message: error.message });
    }
  });
  await new Promise((res) => server.listen(0, "127.0.0.1", res));
  const { port } = server.address();

  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    /** Creates a secret whose AWSCURRENT version holds `value` (a string); answers its ARN. */
    createSecret(name, value, { rotationEnabled = true } = {}) {
      const arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-${randomUUID().slice(0, 6)}`;
      secrets.set(name, { arn, name, rotationEnabled, versions: new Map() });
      secrets.get(name).versions.set(randomUUID(), { stages: new Set([CURRENT]), value, createdAt: Date.now() });
      return arn;
    },
    /**
     * What RotateSecret does before it invokes the function: an empty version labelled AWSPENDING, for a new
     * ClientRequestToken. Refused, as RotateSecret refuses it, while AWSPENDING is on another version than
     * AWSCURRENT (a previous rotation is taken to be in progress).
     */
    startRotation(secretId) {
      const secret = find(secretId);
      const pending = holder(secret, PENDING);
      if (pending !== undefined && pending !== holder(secret, CURRENT))
        throw new AwsError(
          "InvalidRequestException",
          "A previous rotation isn't complete. That rotation will be reattempted.",
        );
      const token = randomUUID();
      secret.versions.set(token, { stages: new Set(), value: undefined, createdAt: Date.now() });
      attach(secret, PENDING, token);
      return token;
    },
    /** The version ids holding each label, and the value of a version. */
    stages(secretId) {
      const secret = find(secretId);
      return { current: holder(secret, CURRENT), pending: holder(secret, PENDING), previous: holder(secret, PREVIOUS) };
    },
    valueOf(secretId, versionId) {
      const value = find(secretId).versions.get(versionId)?.value;
      assert.notEqual(value, undefined, `version ${versionId} has a value`);
      return JSON.parse(value);
    },
    /** Until `heal`, every call of `op` fails with an InternalServiceError (the SDK retries it, then gives up). */
    fail(op) {
      faults.set(op, new AwsError("InternalServiceError", "An error occurred on the server side.", 500));
    },
    heal() {
      faults.clear();
    },
    stop: () => new Promise((res) => server.close(res)),
  };
}
