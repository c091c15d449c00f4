/**
 * How a leak revocation reaches the key's object, and what it costs in D1: announced before D1 is written
 * (so a failed push never leaves the object admitting on its old copy), one owner notice however deliveries
 * overlap, and a batch whose D1 statements do not grow with the tokens that match no key.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../src/keys/format";
import { breakingKeyObjects } from "../faults/wrappers";
import { callWith, countingD1, mintKey, problemOf } from "../helpers";
import { alertBody, newSigningKey, publishKeys, signBody, type SigningKey } from "../webhooks/github-helpers";

const KEYS_URL = "https://api.github.test/meta/public_keys/secret_scanning";
const PATH = "/webhooks/github/secret-scanning";
let signer: SigningKey;

beforeAll(async () => {
  signer = await newSigningKey("kid-order");
  await publishKeys(KEYS_URL, [signer]);
});

function settings(hook = `https://hooks.test/${crypto.randomUUID()}`): Partial<Cloudflare.Env> {
  return { GITHUB_SECRET_SCANNING_KEYS_URL: KEYS_URL, NOTIFY_WEBHOOK_URL: hook, NOTIFY_WEBHOOK_SECRET: "whsec-test" };
}

async function post(body: string, overrides: Partial<Cloudflare.Env> = settings()) {
  return callWith(overrides, PATH, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "Github-Public-Key-Identifier": signer.id,
      "Github-Public-Key-Signature": await signBody(signer, body),
    },
    body,
  });
}

/** The gateway's answer for the key: status and, for a refusal, its code. */
async function gatewayAnswer(apiKey: string, path = "/api/v1/things") {
  const response = await callWith({}, path, { headers: { "X-API-Key": apiKey } });
  if (response.status === 200) {
    await response.body?.cancel();
    return { status: 200, code: null };
  }
  return { status: response.status, code: (await problemOf(response)).code };
}

const deliveriesTo = async (url: string) =>
  (
    (await (await env.ORIGIN!.fetch("https://hooks.test/__deliveries")).json()) as { url: string; body: string }[]
  ).filter((d) => d.url === url);
const eventsOf = async (keyId: string) =>
  (
    await env.DB.prepare("SELECT outcome, revoked_at FROM leak_events WHERE key_id = ? ORDER BY id")
      .bind(keyId)
      .all<{ outcome: string; revoked_at: number | null }>()
  ).results;
const keyStatus = async (id: string) =>
  (await env.DB.prepare("SELECT status FROM api_keys WHERE id = ?").bind(id).first<{ status: string }>())!.status;
const revokeAudits = async (id: string) =>
  (await env.DB.prepare(
    "SELECT COUNT(*) AS n FROM audit_log WHERE subject_type = 'key' AND subject_id = ? AND action = 'revoke'",
  )
    .bind(id)
    .first<{ n: number }>())!.n;

describe("a leak revocation whose push to the key's object fails", () => {
  it("was announced first: the key is refused at once, and GitHub's retry completes it", async () => {
    const { apiKey, id } = await mintKey({ owner_id: "push-fails" });
    expect((await gatewayAnswer(apiKey)).status).toBe(200); // warm: the object and the caches hold the active copy
    const hook = `https://hooks.test/${crypto.randomUUID()}`;
    const { ns, calls } = breakingKeyObjects({ applyChange: "throw" });
    const body = alertBody([apiKey]);

    const failed = await post(body, { ...settings(hook), KEY_OBJECT: ns });
    expect(failed.status).toBe(503);
    expect(calls.indexOf("prepareChange")).toBeGreaterThanOrEqual(0);
    expect(calls.indexOf("prepareChange")).toBeLessThan(calls.indexOf("applyChange"));
    expect(await keyStatus(id)).toBe("revoked");

    // Between the failure and the retry, the key is refused — not admitted on the object's old copy.
    expect(await gatewayAnswer(apiKey)).toEqual({ status: 401, code: "key_revoked" });
    expect(await gatewayAnswer(apiKey, "/api/v1/other")).toEqual({ status: 401, code: "key_revoked" });
    expect(await deliveriesTo(hook)).toHaveLength(0);

    const retried = await post(body, settings(hook));
    expect(retried.status).toBe(200);
    expect(((await retried.json()) as { label: string }[])[0]!.label).toBe("true_positive");
    const [event, ...more] = await eventsOf(id);
    expect(more).toHaveLength(0);
    expect(event!.outcome).toBe("revoked");
    expect(event!.revoked_at).not.toBeNull();
    expect(await revokeAudits(id)).toBe(1);
    expect(await deliveriesTo(hook)).toHaveLength(1);
    expect(await gatewayAnswer(apiKey)).toEqual({ status: 401, code: "key_revoked" });
  });

  it("writes nothing to the key when the announcement fails, answers 503, and the retry revokes it", async () => {
    const { apiKey, id } = await mintKey();
    const hook = `https://hooks.test/${crypto.randomUUID()}`;
    const { ns, calls } = breakingKeyObjects({ prepareChange: "throw" });
    const body = alertBody([apiKey]);

    const failed = await post(body, { ...settings(hook), KEY_OBJECT: ns });
    expect(failed.status).toBe(503);
    expect((await problemOf(failed)).code).toBe("authorizer_unavailable");
    expect(calls).not.toContain("applyChange");
    expect(await keyStatus(id)).toBe("active");
    expect(await revokeAudits(id)).toBe(0);
    expect(await deliveriesTo(hook)).toHaveLength(0);

    expect((await post(body, settings(hook))).status).toBe(200);
    expect(await keyStatus(id)).toBe("revoked");
    expect(await revokeAudits(id)).toBe(1);
    expect((await eventsOf(id)).map((e) => [e.outcome, e.revoked_at !== null])).toEqual([["revoked", true]]);
    expect(await deliveriesTo(hook)).toHaveLength(1);
    expect(await gatewayAnswer(apiKey)).toEqual({ status: 401, code: "key_revoked" });
  });

  it("at the gateway (a key in a query string, revocation on): the key is refused although the push failed", async () => {
    const { apiKey, id } = await mintKey();
    expect((await gatewayAnswer(apiKey)).status).toBe(200);
    const { ns, calls } = breakingKeyObjects({ applyChange: "throw" });
    const refused = await callWith(
      { KEY_OBJECT: ns, REVOKE_ON_QUERY_EXPOSURE: "true" },
      `/api/v1/things?api_key=${apiKey}`,
      {
        headers: { "CF-Connecting-IP": "198.51.100.41" },
      },
    );
    expect(refused.status).toBe(400);
    await refused.body?.cancel();
    expect(calls.slice(0, 2)).toEqual(["prepareChange", "applyChange"]);
    expect(await keyStatus(id)).toBe("revoked");
    expect(await gatewayAnswer(apiKey)).toEqual({ status: 401, code: "key_revoked" });
  });
});

describe("overlapping deliveries of one alert", () => {
  it("notify the owner once: only the delivery that completes the revocation tells the owner", async () => {
    const { apiKey, id } = await mintKey({ owner_id: "overlap" });
    const hook = `https://hooks.test/${crypto.randomUUID()}`;
    const body = alertBody([apiKey]);

    // Delivery 1 stops at its push to the key's object until released: its event says `revoked`, no `revoked_at`.
    let reached!: () => void;
    const atPush = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held = new Proxy(env.KEY_OBJECT, {
      get(target, prop) {
        if (prop === "get") {
          return (objectId: DurableObjectId) => {
            const stub = target.get(objectId);
            return {
              prepareChange: (keyId: string) => stub.prepareChange(keyId),
              applyChange: async (state: Parameters<typeof stub.applyChange>[0]) => {
                reached();
                await gate;
                return stub.applyChange(state);
              },
            };
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const first = post(body, { ...settings(hook), KEY_OBJECT: held });
    await atPush;
    expect(await eventsOf(id)).toEqual([{ outcome: "revoked", revoked_at: null }]);

    // GitHub retries the slow delivery: the retry completes the revocation and tells the owner.
    const second = await post(body, settings(hook));
    expect(second.status).toBe(200);
    expect(await deliveriesTo(hook)).toHaveLength(1);

    release();
    expect((await first).status).toBe(200);
    expect((await eventsOf(id)).map((e) => e.outcome)).toEqual(["revoked"]);
    const deliveries = await deliveriesTo(hook);
    expect(deliveries).toHaveLength(1);
    expect(JSON.parse(deliveries[0]!.body)).toMatchObject({ type: "key.leaked", key_id: id, data: { revoked: true } });
  });
});

describe("the D1 cost of a batch", () => {
  /** D1 statements the alert ran (the keys' objects read D1 through their own binding, not counted here). */
  async function statementsFor(tokens: string[]) {
    const { db, counter } = countingD1(env.DB);
    const response = await post(alertBody(tokens), { ...settings(), DB: db });
    expect(response.status).toBe(200);
    const labels = ((await response.json()) as { label: string }[]).map((f) => f.label);
    return { statements: counter.statements, positives: labels.filter((l) => l === "true_positive").length };
  }

  it("does not grow with the tokens that match no key", async () => {
    const unknown = (n: number) => Array.from({ length: n }, () => generateKey("", "secret", "live"));
    const liveKeys = async () => (await Promise.all(Array.from({ length: 3 }, () => mintKey()))).map((k) => k.apiKey);

    const small = await statementsFor([...unknown(27), ...(await liveKeys())]);
    const large = await statementsFor([...unknown(150), ...(await liveKeys()), ...unknown(147)]);
    expect(small.positives).toBe(3);
    expect(large.positives).toBe(3);
    expect(large.statements).toBe(small.statements);
    // A few set-based statements for the batch, and a handful per live key revoked.
    expect(large.statements).toBeLessThanOrEqual(6 + 3 * 5);

    // Replayed, nothing is revoked again: the reads and the (empty) insert only.
    const { db, counter } = countingD1(env.DB);
    const tokens = [...unknown(100)];
    expect((await post(alertBody(tokens), { ...settings(), DB: db })).status).toBe(200);
    const first = counter.statements;
    expect((await post(alertBody(tokens), { ...settings(), DB: db })).status).toBe(200);
    expect(counter.statements - first).toBeLessThanOrEqual(first);
    expect(first).toBeLessThanOrEqual(6);
  });
});
