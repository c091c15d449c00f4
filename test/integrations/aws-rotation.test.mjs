// The AWS Secrets Manager rotation function (integrations/aws-secrets-manager/) end to end: the real AWS SDK
// against the local stand-in of Secrets Manager (./secrets-manager-stand-in.mjs), and the authorizer running
// locally under `wrangler dev`. Each step as Secrets Manager invokes it, each step again, the failures the
// function must survive, and what its log lines hold.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SecretsManagerClient, UpdateSecretVersionStageCommand } from "@aws-sdk/client-secrets-manager";
import { createRotationHandler, readSettings } from "../../integrations/aws-secrets-manager/rotation.mjs";
import { startDevServer } from "../cli/dev-server.mjs";
import { startSecretsManagerStandIn } from "./secrets-manager-stand-in.mjs";

const ADMIN_TOKEN = "aws-rotation-test-admin-token-0123456789";
const GRACE_HOURS = 6;
const HOUR_MS = 3_600_000;
// The SDK signs with these (the stand-in checks the signature's shape, not its value).
process.env.AWS_ACCESS_KEY_ID = "AKIASTANDIN000000000";
process.env.AWS_SECRET_ACCESS_KEY = "stand-in-secret-access-key";
process.env.AWS_REGION = "us-east-1";

let server;
let sm;
let credentialArn;
/** The function's scoped credential: keys:rotate and keys:check on the consumer "aws-app" only. */
let credentialId;
/** Every log line the function wrote, as printed. */
const logLines = [];
/** Every key and credential the tests saw: none may appear in a log line. */
const secrets = [ADMIN_TOKEN];

before(async () => {
  [server, sm] = await Promise.all([startDevServer({ ADMIN_TOKEN }), startSecretsManagerStandIn()]);
  for (const id of ["aws-app", "other-app"]) assert.equal((await admin("POST", "/consumers", { id })).status, 201);
  const { status, body } = await admin("POST", "/credentials", {
    name: "rotation lambda",
    operations: ["keys:rotate", "keys:check"],
    consumers: ["aws-app"],
    expires_in_days: 30,
  });
  assert.equal(status, 201);
  secrets.push(body.credential);
  credentialId = body.details.id;
  credentialArn = sm.createSecret("authorizer/rotation-credential", body.credential);
});
after(async () => {
  server?.stop();
  await sm?.stop();
});

async function admin(method, path, body) {
  const res = await fetch(`${server.base}/admin/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}
const getKey = async (id) => (await admin("GET", `/keys/${id}`)).body;
/** The authorizer's answer for the key (the key check: nothing spent or counted). */
const check = async (apiKey) => (await admin("POST", "/keys/check", { api_key: apiKey })).body;
const auditOf = async (id) => (await admin("GET", `/audit?key_id=${id}&limit=100`)).body.entries;

function rotationFunction(env = {}) {
  return createRotationHandler({
    env: {
      AUTHORIZER_URL: server.base,
      AUTHORIZER_CREDENTIAL_SECRET_ARN: credentialArn,
      GRACE_PERIOD_HOURS: String(GRACE_HOURS),
      SECRETS_MANAGER_ENDPOINT: sm.endpoint,
      ...env,
    },
    log: (level, msg, fields) => logLines.push(JSON.stringify({ level, msg, ...fields })),
  });
}

/** A key in the authorizer and a secret holding it as AWSCURRENT. */
async function keyInSecret(name, body = {}) {
  const { status, body: created } = await admin("POST", "/keys", { owner_id: "aws-app", ...body });
  assert.equal(status, 201);
  secrets.push(created.api_key);
  const arn = sm.createSecret(name, JSON.stringify({ key_id: created.key.id, api_key: created.api_key, region: "eu" }));
  return { arn, keyId: created.key.id, apiKey: created.api_key };
}

/** Each of `expected`'s fields is as given in `actual`. */
const assertFields = (actual, expected) => {
  for (const [name, value] of Object.entries(expected)) assert.deepEqual(actual[name], value, name);
};
const event = (arn, token, Step) => ({ SecretId: arn, ClientRequestToken: token, Step });
async function runSteps(rotate, arn, token, steps) {
  for (const step of steps) await rotate(event(arn, token, step));
}
const pendingValue = (arn) => {
  const value = sm.valueOf(arn, sm.stages(arn).pending);
  secrets.push(value.api_key);
  return value;
};

describe("a full rotation", () => {
  it("the old key works until finishSecret, then in its grace period; the new key is current", async () => {
    const rotate = rotationFunction();
    const old = await keyInSecret("app/full");
    const token = sm.startRotation(old.arn);

    await rotate(event(old.arn, token, "createSecret"));
    const pending = pendingValue(old.arn);
    assert.notEqual(pending.key_id, old.keyId);
    assert.equal(pending.region, "eu", "the value's other fields are kept");
    assert.equal(sm.valueOf(old.arn, sm.stages(old.arn).current).key_id, old.keyId);
    assertFields(await getKey(old.keyId), { status: "active", rotated_to: pending.key_id, grace_until: null });

    await runSteps(rotate, old.arn, token, ["setSecret", "testSecret"]);
    assert.equal((await check(old.apiKey)).valid, true);
    assert.equal((await getKey(old.keyId)).grace_until, null, "no grace end before the new version is current");

    const finishing = Date.now();
    await rotate(event(old.arn, token, "finishSecret"));
    const finished = Date.now();
    assert.deepEqual(sm.stages(old.arn), {
      current: token,
      pending: token,
      previous: sm.stages(old.arn).previous,
    });
    assert.equal(sm.valueOf(old.arn, sm.stages(old.arn).previous).key_id, old.keyId);
    const graceUntil = Date.parse((await getKey(old.keyId)).grace_until);
    assert.ok(graceUntil >= finishing + GRACE_HOURS * HOUR_MS - 1000 && graceUntil <= finished + GRACE_HOURS * HOUR_MS);
    assertFields(await check(old.apiKey), { valid: true, key_id: old.keyId });
    assertFields(await check(pending.api_key), { valid: true, key_id: pending.key_id });
    const rows = (await auditOf(old.keyId)).filter((r) => r.action === "rotate" || r.action === "start_grace");
    assert.deepEqual(rows.map((r) => [r.action, r.actor]).sort(), [
      ["rotate", `credential:${credentialId}`],
      ["start_grace", `credential:${credentialId}`],
    ]);
    // Labelled for the security report's "Secret managers" row.
    assert.equal(rows.find((r) => r.action === "rotate").changes.secret_store, "aws-secrets-manager");
  });
});

describe("each step retried", () => {
  it("a second run of every step changes nothing: one successor, one grace start, the same grace end", async () => {
    const rotate = rotationFunction();
    const old = await keyInSecret("app/retried");
    const token = sm.startRotation(old.arn);
    await runSteps(rotate, old.arn, token, ["createSecret", "createSecret"]);
    const pending = pendingValue(old.arn);
    assert.equal((await getKey(old.keyId)).rotated_to, pending.key_id);
    await runSteps(rotate, old.arn, token, ["setSecret", "setSecret", "testSecret", "testSecret", "finishSecret"]);
    const graceUntil = (await getKey(old.keyId)).grace_until;
    // Secrets Manager may run the whole rotation again with the same token once the new version is current.
    await runSteps(rotate, old.arn, token, ["createSecret", "setSecret", "testSecret", "finishSecret"]);
    assert.equal((await getKey(old.keyId)).grace_until, graceUntil);
    assert.equal(sm.valueOf(old.arn, token).key_id, pending.key_id);
    const audit = await auditOf(old.keyId);
    assert.equal(audit.filter((r) => r.action === "rotate").length, 1);
    assert.equal(audit.filter((r) => r.action === "start_grace").length, 1);
    assert.equal((await check(pending.api_key)).valid, true);
  });

  it("a finishSecret that moved the label but failed to start the grace is completed by its retry", async () => {
    const old = await keyInSecret("app/finish-retry");
    const token = sm.startRotation(old.arn);
    await runSteps(rotationFunction(), old.arn, token, ["createSecret", "setSecret", "testSecret"]);
    // The authorizer is unreachable for the finish: the label moves, the grace call fails.
    const cut = rotationFunction({ AUTHORIZER_URL: "http://127.0.0.1:9" });
    await assert.rejects(cut(event(old.arn, token, "finishSecret")), /start-grace: 0/);
    assert.equal(sm.stages(old.arn).current, token);
    assert.equal((await getKey(old.keyId)).grace_until, null);
    assert.equal((await check(old.apiKey)).valid, true);
    await rotationFunction()(event(old.arn, token, "finishSecret"));
    assert.notEqual((await getKey(old.keyId)).grace_until, null);
  });
});

describe("PutSecretValue fails after the successor was minted", () => {
  it("the retry with the same ClientRequestToken revokes the orphan at once and stores a new successor", async () => {
    const rotate = rotationFunction();
    const old = await keyInSecret("app/put-fails");
    const token = sm.startRotation(old.arn);
    sm.fail("PutSecretValue");
    await assert.rejects(rotate(event(old.arn, token, "createSecret")), { name: "InternalServiceError" });
    sm.heal();
    const orphanId = (await getKey(old.keyId)).rotated_to;
    assert.notEqual(orphanId, null, "the successor was minted; its secret exists nowhere");

    await rotate(event(old.arn, token, "createSecret"));
    const pending = pendingValue(old.arn);
    assert.notEqual(pending.key_id, orphanId);
    assert.deepEqual(
      { status: (await getKey(orphanId)).status, reason: (await getKey(orphanId)).revoke_reason },
      { status: "revoked", reason: "rotation_retried" },
    );
    assert.equal((await getKey(old.keyId)).rotated_to, pending.key_id);
    const rotateRow = (await auditOf(old.keyId)).find((r) => r.action === "rotate" && r.changes.replaced_successor);
    assert.equal(rotateRow.changes.replaced_successor, orphanId);
    assert.equal(rotateRow.changes.rotation_token, token);

    await runSteps(rotate, old.arn, token, ["setSecret", "testSecret", "finishSecret"]);
    assert.equal(sm.valueOf(old.arn, sm.stages(old.arn).current).key_id, pending.key_id);
    assert.equal((await check(pending.api_key)).valid, true);
  });
});

describe("testSecret fails", () => {
  it("the old key stays current and working, with no grace end", async () => {
    const old = await keyInSecret("app/test-fails", { allowed_routes: ["GET /api/v1/*"] });
    const currentVersion = sm.stages(old.arn).current;
    const token = sm.startRotation(old.arn);
    await runSteps(rotationFunction(), old.arn, token, ["createSecret", "setSecret"]);
    // The function checks a request the key may not make: the authorizer refuses the pending key.
    const strict = rotationFunction({ CHECK_METHOD: "POST", CHECK_PATH: "/admin/area" });
    await assert.rejects(
      strict(event(old.arn, token, "testSecret")),
      /testSecret: the authorizer refuses the pending key/,
    );
    assert.deepEqual(sm.stages(old.arn), { current: currentVersion, pending: token, previous: undefined });
    assert.equal(sm.valueOf(old.arn, currentVersion).key_id, old.keyId);
    assert.equal((await check(old.apiKey)).valid, true);
    assert.equal((await getKey(old.keyId)).grace_until, null);
  });

  it("a pending key revoked meanwhile fails the test; the old key may then be rotated again", async () => {
    const rotate = rotationFunction();
    const old = await keyInSecret("app/pending-revoked");
    const first = sm.startRotation(old.arn);
    await rotate(event(old.arn, first, "createSecret"));
    const pending = pendingValue(old.arn);
    assert.equal((await admin("POST", `/keys/${pending.key_id}/revoke`, { reason: "leaked" })).status, 200);
    await assert.rejects(rotate(event(old.arn, first, "testSecret")), /key_revoked/);
    assert.equal((await check(old.apiKey)).valid, true);
    // The operator clears the failed rotation's label (as after CancelRotateSecret) and rotates again.
    await operatorClient().send(
      new UpdateSecretVersionStageCommand({
        SecretId: old.arn,
        VersionStage: "AWSPENDING",
        RemoveFromVersionId: first,
      }),
    );
    const second = sm.startRotation(old.arn);
    await runSteps(rotate, old.arn, second, ["createSecret", "setSecret", "testSecret", "finishSecret"]);
    const current = sm.valueOf(old.arn, second);
    secrets.push(current.api_key);
    assert.equal((await check(current.api_key)).valid, true);
    assert.notEqual((await getKey(old.keyId)).grace_until, null);
  });
});

describe("a second rotation while one is pending", () => {
  it("is refused before anything is minted, and the first rotation still completes", async () => {
    const rotate = rotationFunction();
    const old = await keyInSecret("app/second");
    const first = sm.startRotation(old.arn);
    await rotate(event(old.arn, first, "createSecret"));
    const successor = (await getKey(old.keyId)).rotated_to;
    assert.throws(() => sm.startRotation(old.arn), { type: "InvalidRequestException" });
    // Invoked anyway with a token Secrets Manager never staged: refused at the version check.
    await assert.rejects(rotate(event(old.arn, crypto.randomUUID(), "createSecret")), /has no stage for rotation/);
    assert.equal((await getKey(old.keyId)).rotated_to, successor);
    await runSteps(rotate, old.arn, first, ["setSecret", "testSecret", "finishSecret"]);
    assert.equal(sm.valueOf(old.arn, sm.stages(old.arn).current).key_id, successor);
  });

  it("after the pending label was removed by hand, a new rotation is refused by the authorizer: nothing minted", async () => {
    const rotate = rotationFunction();
    const old = await keyInSecret("app/abandoned");
    const first = sm.startRotation(old.arn);
    await rotate(event(old.arn, first, "createSecret"));
    const successor = (await getKey(old.keyId)).rotated_to;
    await operatorClient().send(
      new UpdateSecretVersionStageCommand({
        SecretId: old.arn,
        VersionStage: "AWSPENDING",
        RemoveFromVersionId: first,
      }),
    );
    const second = sm.startRotation(old.arn);
    await assert.rejects(rotate(event(old.arn, second, "createSecret")), /has a live successor from another rotation/);
    assert.equal((await getKey(old.keyId)).rotated_to, successor);
    assert.equal((await check(old.apiKey)).valid, true);
    assert.equal(sm.valueOf(old.arn, sm.stages(old.arn).current).key_id, old.keyId);
  });
});

describe("the function's scoped credential", () => {
  it("cannot rotate a key of a consumer outside it: the step fails and nothing is minted", async () => {
    const other = await keyInSecret("app/other-consumer", { owner_id: "other-app" });
    const token = sm.startRotation(other.arn);
    await assert.rejects(rotationFunction()(event(other.arn, token, "createSecret")), /rotate: 404 key_not_found/);
    assert.equal((await getKey(other.keyId)).rotated_to, null);
    assert.equal(sm.stages(other.arn).pending, token);
    assert.throws(() => sm.valueOf(other.arn, token));
  });
});

describe("settings and logs", () => {
  it("names a missing or unsafe setting", () => {
    const base = { AUTHORIZER_URL: "https://auth.example.com", AUTHORIZER_CREDENTIAL_SECRET_ARN: "arn:x" };
    assert.throws(() => readSettings({ ...base, AUTHORIZER_URL: "" }), /AUTHORIZER_URL is not set/);
    assert.throws(() => readSettings({ ...base, AUTHORIZER_URL: "http://auth.example.com" }), /must be https/);
    assert.throws(() => readSettings({ ...base, AUTHORIZER_CREDENTIAL_SECRET_ARN: " " }), /CREDENTIAL_SECRET_ARN/);
    assert.throws(() => readSettings({ ...base, GRACE_PERIOD_HOURS: "721" }), /GRACE_PERIOD_HOURS/);
    assert.equal(readSettings(base).graceHours, 24);
  });

  it("no log line holds a key or the credential", () => {
    assert.ok(logLines.length > 20, `the runs above logged (${logLines.length} lines)`);
    assert.ok(secrets.length > 8);
    for (const line of logLines) for (const secret of secrets) assert.ok(!line.includes(secret), line);
  });
});

/** A client of the stand-in as an operator's CLI would be. */
const operatorClient = () => new SecretsManagerClient({ endpoint: sm.endpoint });
