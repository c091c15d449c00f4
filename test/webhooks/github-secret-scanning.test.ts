/**
 * GitHub secret scanning partner alerts, signed with a locally generated P-256 key whose document the origin
 * fixture serves in place of api.github.com (every fetch() in tests lands on that fixture).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../src/keys/format";
import { sha256Hex } from "../../src/keys/hash";
import {
  derToRawSignature,
  githubKey,
  GITHUB_KEYS_FETCH_TIMEOUT_MS,
  GITHUB_KEYS_REFETCH_INTERVAL_MS,
} from "../../src/webhooks/github-signature";
import { testClock } from "../clock";
import { callWith, gatewayStatus, mintKey, problemOf } from "../helpers";
import { alertBody, newSigningKey, publishKeys, rawToDer, signBody, type SigningKey } from "./github-helpers";

const KEYS_URL = "https://api.github.test/meta/public_keys/secret_scanning";
const PATH = "/webhooks/github/secret-scanning";
let signer: SigningKey;
let stranger: SigningKey;

interface Delivery {
  url: string;
  body: string;
}
interface LeakRow {
  key_id: string | null;
  source: string;
  fingerprint: string;
  location: string | null;
  reported_at: number;
  revoked_at: number | null;
  outcome: string;
}

function settings(hook = `https://hooks.test/${crypto.randomUUID()}`, keysUrl = KEYS_URL): Partial<Cloudflare.Env> {
  return { GITHUB_SECRET_SCANNING_KEYS_URL: keysUrl, NOTIFY_WEBHOOK_URL: hook, NOTIFY_WEBHOOK_SECRET: "whsec-test" };
}

async function post(
  body: string,
  {
    key = signer,
    signature,
    keyId,
    overrides = settings(),
  }: { key?: SigningKey; signature?: string; keyId?: string; overrides?: Partial<Cloudflare.Env> } = {},
) {
  return callWith(overrides, PATH, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "Github-Public-Key-Identifier": keyId ?? key.id,
      "Github-Public-Key-Signature": signature ?? (await signBody(key, body)),
    },
    body,
  });
}

const deliveriesTo = async (url: string) =>
  ((await (await env.ORIGIN!.fetch("https://hooks.test/__deliveries")).json()) as Delivery[]).filter(
    (d) => d.url === url,
  );
const eventsOf = async (keyId: string) =>
  (await env.DB.prepare("SELECT * FROM leak_events WHERE key_id = ? ORDER BY id").bind(keyId).all<LeakRow>()).results;
const keyRow = (id: string) =>
  env.DB.prepare("SELECT status, revoke_reason FROM api_keys WHERE id = ?")
    .bind(id)
    .first<{ status: string; revoke_reason: string | null }>();

beforeAll(async () => {
  signer = await newSigningKey("kid-current");
  stranger = await newSigningKey("kid-current"); // same id, another key: its signatures must fail
  await publishKeys(KEYS_URL, [signer]);
});

describe("a signed alert", () => {
  it("revokes a live key before it answers, records the event with its times, and tells the owner", async () => {
    const { apiKey, id } = await mintKey({ owner_id: "leaky-owner" });
    expect(await gatewayStatus(apiKey)).toBe(200); // warm: caches and a lease hold the key
    const hook = `https://hooks.test/${crypto.randomUUID()}`;
    const url = "https://github.com/octo/repo/blob/abc/config.js";

    const response = await post(alertBody([apiKey], url), { overrides: settings(hook) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([
      { token_hash: await sha256Hex(apiKey), token_type: "edge_key_authorizer_secret", label: "true_positive" },
    ]);

    // The next request with the key is refused.
    expect(await gatewayStatus(apiKey)).toBe(401);
    expect(await keyRow(id)).toEqual({ status: "revoked", revoke_reason: "leaked" });
    const [event, ...more] = await eventsOf(id);
    expect(more).toHaveLength(0);
    expect(event).toMatchObject({ source: "github", outcome: "revoked", location: url });
    expect(event!.revoked_at).toBeGreaterThanOrEqual(event!.reported_at);
    expect(event!.fingerprint).not.toContain(await sha256Hex(apiKey));

    const audit = await env.DB.prepare(
      "SELECT actor, changes FROM audit_log WHERE subject_type = 'key' AND subject_id = ? AND action = 'revoke'",
    )
      .bind(id)
      .all<{ actor: string; changes: string }>();
    expect(audit.results).toHaveLength(1);
    expect(audit.results[0]!.actor).toBe("github-secret-scanning");
    expect(JSON.parse(audit.results[0]!.changes)).toMatchObject({
      revoke_reason: "leaked",
      leak_source: "github",
      location: url,
    });

    const [delivery, ...others] = await deliveriesTo(hook);
    expect(others).toHaveLength(0);
    expect(JSON.parse(delivery!.body)).toMatchObject({
      type: "key.leaked",
      owner_id: "leaky-owner",
      key_id: id,
      data: { source: "github", location: url, revoked: true },
    });
    expect(delivery!.body).not.toContain(apiKey);
  });

  it("labels tokens that are no key of this authorizer false_positive and records them as no_match", async () => {
    const unknown = generateKey("", "secret", "live"); // valid checksum, never minted
    const badChecksum = `${unknown.slice(0, -1)}${unknown.endsWith("A") ? "B" : "A"}`;
    const response = await post(alertBody([unknown, badChecksum, "ghp_notours"]));
    expect(response.status).toBe(200);
    const feedback = (await response.json()) as { label: string }[];
    expect(feedback.map((f) => f.label)).toEqual(["false_positive", "false_positive", "false_positive"]);
    const rows = await env.DB.prepare(
      "SELECT outcome, key_id FROM leak_events WHERE source = 'github' AND outcome = 'no_match'",
    ).all();
    expect(rows.results.length).toBeGreaterThanOrEqual(3);
    expect(rows.results.every((r) => r.key_id === null)).toBe(true);
  });

  it("is idempotent: a replay answers the same and adds no event, audit row or notification", async () => {
    const { apiKey, id } = await mintKey();
    const hook = `https://hooks.test/${crypto.randomUUID()}`;
    const body = alertBody([apiKey]);
    const first = await post(body, { overrides: settings(hook) });
    const replay = await post(body, { overrides: settings(hook) });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual(await first.json());
    expect(await eventsOf(id)).toHaveLength(1);
    expect(
      (await env.DB.prepare(
        "SELECT COUNT(*) AS n FROM audit_log WHERE subject_type = 'key' AND subject_id = ? AND action = 'revoke'",
      )
        .bind(id)
        .first<{ n: number }>())!.n,
    ).toBe(1);
    expect(await deliveriesTo(hook)).toHaveLength(1);
  });

  it("records the same key found at a second place as already_revoked, without a second notification", async () => {
    const { apiKey, id } = await mintKey();
    const hook = `https://hooks.test/${crypto.randomUUID()}`;
    await post(alertBody([apiKey], "https://github.com/a/b/blob/1/x"), { overrides: settings(hook) });
    const second = await post(alertBody([apiKey], "https://gist.github.com/c/d"), { overrides: settings(hook) });
    expect(((await second.json()) as { label: string }[])[0]!.label).toBe("true_positive");
    expect((await eventsOf(id)).map((e) => e.outcome)).toEqual(["revoked", "already_revoked"]);
    expect(await deliveriesTo(hook)).toHaveLength(1);
  });

  it("revokes a disabled key too, and a key named twice in one batch once", async () => {
    const disabled = await mintKey();
    const twice = await mintKey();
    const hook = `https://hooks.test/${crypto.randomUUID()}`;
    const disable = await callWith({}, `/admin/v1/keys/${disabled.id}/disable`, {
      method: "POST",
      headers: { Authorization: "Bearer test-admin-token-0123456789" },
    });
    expect(disable.status).toBe(200);
    const body = JSON.stringify([
      { token: disabled.apiKey, type: "t", url: "https://github.com/x/1", source: "content" },
      { token: twice.apiKey, type: "t", url: "https://github.com/x/2", source: "content" },
      { token: twice.apiKey, type: "t", url: "https://github.com/x/3", source: "commit" },
    ]);
    expect((await post(body, { overrides: settings(hook) })).status).toBe(200);
    expect((await keyRow(disabled.id))!.status).toBe("revoked");
    expect((await eventsOf(twice.id)).map((e) => e.outcome).sort()).toEqual(["already_revoked", "revoked"]);
    expect(await deliveriesTo(hook)).toHaveLength(2);
  });

  it("handles a batch of hundreds of tokens, revoking exactly the live keys among them", async () => {
    const live = await Promise.all(Array.from({ length: 5 }, () => mintKey()));
    const tokens = Array.from({ length: 295 }, () => generateKey("", "secret", "live"));
    tokens.splice(40, 0, live[0]!.apiKey);
    tokens.splice(100, 0, live[1]!.apiKey);
    tokens.splice(150, 0, live[2]!.apiKey);
    tokens.splice(250, 0, live[3]!.apiKey);
    tokens.push(live[4]!.apiKey);
    const response = await post(alertBody(tokens));
    expect(response.status).toBe(200);
    const feedback = (await response.json()) as { token_hash: string; label: string }[];
    expect(feedback).toHaveLength(300);
    const positives = feedback.filter((f) => f.label === "true_positive").map((f) => f.token_hash);
    expect(positives.sort()).toEqual((await Promise.all(live.map((k) => sha256Hex(k.apiKey)))).sort());
    for (const k of live) expect((await keyRow(k.id))!.status).toBe("revoked");
  });

  it("completes a revocation that failed part-way when GitHub retries, and notifies once", async () => {
    const { apiKey, id } = await mintKey();
    const hook = `https://hooks.test/${crypto.randomUUID()}`;
    const failingObjects = new Proxy(env.KEY_OBJECT, {
      get(target, prop) {
        if (prop === "get") return () => ({ applyChange: () => Promise.reject(new Error("object down")) });
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const body = alertBody([apiKey]);
    const failed = await post(body, { overrides: { ...settings(hook), KEY_OBJECT: failingObjects } });
    expect(failed.status).toBe(503);
    expect((await eventsOf(id)).map((e) => [e.outcome, e.revoked_at])).toEqual([["revoked", null]]);
    expect(await deliveriesTo(hook)).toHaveLength(0);

    const retried = await post(body, { overrides: settings(hook) });
    expect(retried.status).toBe(200);
    expect(await gatewayStatus(apiKey)).toBe(401);
    const [event] = await eventsOf(id);
    expect(event!.revoked_at).not.toBeNull();
    expect(await deliveriesTo(hook)).toHaveLength(1);
  });
});

describe("refused alerts change nothing", () => {
  let apiKey: string;
  let id: string;
  beforeAll(async () => {
    ({ apiKey, id } = await mintKey());
  });

  async function expectUntouched() {
    expect((await keyRow(id))!.status).toBe("active");
    expect(await eventsOf(id)).toHaveLength(0);
    expect(await gatewayStatus(apiKey)).toBe(200);
  }

  it("refuses a signature by another key (401)", async () => {
    const response = await post(alertBody([apiKey]), { key: stranger });
    expect(response.status).toBe(401);
    expect((await problemOf(response)).code).toBe("invalid_signature");
    await expectUntouched();
  });

  it("refuses missing signature headers (401)", async () => {
    const response = await callWith(settings(), PATH, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: alertBody([apiKey]),
    });
    expect(response.status).toBe(401);
    await expectUntouched();
  });

  it("refuses a key id GitHub does not list (401)", async () => {
    const body = alertBody([apiKey]);
    const response = await post(body, { keyId: "kid-nobody-knows", signature: await signBody(signer, body) });
    expect(response.status).toBe(401);
    await expectUntouched();
  });

  it("refuses a body re-serialised under its old signature (401)", async () => {
    const body = alertBody([apiKey]);
    const signature = await signBody(signer, body);
    const reserialised = JSON.stringify(JSON.parse(body), null, 1);
    const response = await post(reserialised, { signature });
    expect(response.status).toBe(401);
    await expectUntouched();
  });

  it("refuses a signature that is not DER, or has trailing bytes (401)", async () => {
    const body = alertBody([apiKey]);
    const good = Uint8Array.from(atob(await signBody(signer, body)), (c) => c.charCodeAt(0));
    for (const signature of ["not base64 !!", btoa("garbage"), btoa(String.fromCharCode(...good, 0))]) {
      expect((await post(body, { signature })).status).toBe(401);
    }
    await expectUntouched();
  });

  it("answers 503 with Retry-After when the key document cannot be had, so GitHub retries", async () => {
    for (const keysUrl of [
      "https://down.hooks.test/meta/public_keys/secret_scanning",
      "https://hang.test/meta/public_keys/secret_scanning",
    ]) {
      const pending = post(alertBody([apiKey]), { overrides: settings(undefined, keysUrl) });
      if (keysUrl.startsWith("https://hang.test/")) {
        await testClock.untilDeadlinesPending(); // the fetch of the document, which never answers
        testClock.advance(GITHUB_KEYS_FETCH_TIMEOUT_MS);
      }
      const response = await pending;
      expect(response.status).toBe(503);
      expect((await problemOf(response)).code).toBe("signing_keys_unavailable");
      expect(response.headers.get("Retry-After")).toBe("30");
    }
    await expectUntouched();
  });

  it("refuses a body over the bound with 413, and a signed body of the wrong shape with 400", async () => {
    const huge = JSON.stringify([{ token: apiKey, type: "t", url: "x".repeat(1024 * 1024), source: "content" }]);
    expect((await post(huge)).status).toBe(413);
    for (const body of ['{"token":"x"}', '[{"token":5,"type":"t"}]', "[1]", "not json"]) {
      const response = await post(body);
      expect(response.status, body).toBe(400);
      expect((await problemOf(response)).code).toBe("invalid_request");
    }
    await expectUntouched();
  });

  it("is off (404) when no key document URL is configured", async () => {
    const response = await post(alertBody([apiKey]), { overrides: { GITHUB_SECRET_SCANNING_KEYS_URL: "" } });
    expect(response.status).toBe(404);
    await expectUntouched();
  });
});

describe("signing keys", () => {
  it("fetches the document again for an unknown key id, at most once per interval", async () => {
    const url = `https://rotating.github.test/${crypto.randomUUID()}/meta/public_keys/secret_scanning`;
    const first = await newSigningKey("kid-a");
    const second = await newSigningKey("kid-b");
    await publishKeys(url, [first]);
    const t0 = 1_000_000_000_000;
    expect(await githubKey(url, "kid-a", t0)).toBeInstanceOf(CryptoKey);
    await publishKeys(url, [second, first]); // GitHub rotates
    expect(await githubKey(url, "kid-b", t0 + 1000)).toBe("unknown"); // within the interval: no fetch
    expect(await githubKey(url, "kid-b", t0 + GITHUB_KEYS_REFETCH_INTERVAL_MS + 1)).toBeInstanceOf(CryptoKey);
    expect(await githubKey(url, "kid-a", t0 + GITHUB_KEYS_REFETCH_INTERVAL_MS + 2)).toBeInstanceOf(CryptoKey);
  });

  it("converts DER signatures to r‖s exactly, and refuses malformed DER", async () => {
    const raw = new Uint8Array(64);
    raw[31] = 1; // r = 1 (leading zeros), s has its top bit set (needs a 0x00 pad in DER)
    raw.fill(0xff, 32);
    const der = rawToDer(raw);
    expect(derToRawSignature(der)).toEqual(raw);
    const bad = [
      Uint8Array.from([0x31, ...der.subarray(1)]), // not a SEQUENCE
      der.subarray(0, der.length - 1), // truncated
      Uint8Array.from([...der, 0]), // trailing byte
      Uint8Array.from([0x30, 6, 0x02, 1, 0x80, 0x02, 1, 1]), // negative r
      Uint8Array.from([0x30, 38, 0x02, 34, ...new Array(34).fill(1), 0x02, 0]), // r too long
    ];
    for (const b of bad) expect(derToRawSignature(b)).toBeNull();
  });
});
