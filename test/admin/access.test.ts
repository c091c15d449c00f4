/**
 * Cloudflare Access JWTs on the admin routes, with a locally generated RS256 key pair whose JWKS the origin
 * fixture serves in place of the team's certs endpoint (every fetch() in tests lands on that fixture).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { CreateKeyResult } from "../../src/operations/create-key";
import { callWith, problemOf } from "../helpers";
import { testClock } from "../clock";

const TEAM = "https://team.example.com";
const AUD = "aud-0123456789";
const POLICY = [
  { email: "ops@example.com", operations: "admin" },
  { email: "*@example.com", operations: ["keys:read"] },
  { email: "*@partner.example", operations: ["keys:create"], consumers: ["partner-co"] },
  { service: "ci-rotator.access", operations: ["keys:create", "keys:read"] },
];
const ACCESS = { ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD, ACCESS_POLICY: JSON.stringify(POLICY) };

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replaceAll("=", "");
const encodeJson = (value: unknown) => b64url(new TextEncoder().encode(JSON.stringify(value)));

let signingKey: CryptoKey;
let otherKey: CryptoKey;

async function rsaPair() {
  return (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
}

async function sign(claims: Record<string, unknown>, { key = signingKey, kid = "kid-1", alg = "RS256" } = {}) {
  const head = `${encodeJson({ alg, kid, typ: "JWT" })}.${encodeJson(claims)}`;
  const signature = new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, new TextEncoder().encode(head)));
  return `${head}.${b64url(signature)}`;
}

const now = () => Math.floor(testClock.now() / 1000);
const validClaims = () => ({
  aud: [AUD],
  iss: TEAM,
  email: "ops@example.com",
  exp: now() + 300,
  nbf: now() - 10,
  sub: "u1",
});

const createWith = (jwt: string, settings: Partial<Cloudflare.Env> = ACCESS, owner = "via-access") =>
  callWith(settings, "/admin/v1/keys", {
    method: "POST",
    headers: { "Cf-Access-Jwt-Assertion": jwt, "Content-Type": "application/json" },
    body: JSON.stringify({ owner_id: owner }),
  });

const actorOf = async (res: Response) => {
  const { key } = (await res.json()) as CreateKeyResult;
  const row = await env.DB.prepare("SELECT actor FROM audit_log WHERE subject_type = 'key' AND subject_id = ?")
    .bind(key.id)
    .first<{ actor: string }>();
  return row?.actor;
};

const keyCount = async () => (await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys").first<{ n: number }>())!.n;

beforeAll(async () => {
  const pair = await rsaPair();
  signingKey = pair.privateKey;
  otherKey = (await rsaPair()).privateKey;
  const jwk = { ...(await crypto.subtle.exportKey("jwk", pair.publicKey)), kid: "kid-1" };
  await env.ORIGIN!.fetch(`${TEAM}/cdn-cgi/access/certs`, { method: "PUT", body: JSON.stringify({ keys: [jwk] }) });
});

describe("Access JWT", () => {
  it("admits a valid JWT of an identity ACCESS_POLICY maps, recording access:<email> as the actor", async () => {
    const res = await createWith(await sign(validClaims()));
    expect(res.status).toBe(201);
    expect(await actorOf(res)).toBe("access:ops@example.com");
  });

  it("admits a service token by its common_name, recorded as access-service:<common_name>", async () => {
    const { email: _email, ...claims } = validClaims();
    const res = await createWith(await sign({ ...claims, common_name: "ci-rotator.access" }));
    expect(res.status).toBe(201);
    expect(await actorOf(res)).toBe("access-service:ci-rotator.access");
  });

  it.each([
    ["an email no entry names", { email: "someone@elsewhere.example" }],
    ["a service token no entry names", { email: undefined, common_name: "other.access" }],
    ["a service token posing as a mapped email", { email: undefined, common_name: "ops@example.com" }],
  ])("refuses %s with 403 forbidden_operation and creates nothing", async (_label, overrides) => {
    const before = await keyCount();
    const res = await createWith(await sign({ ...validClaims(), ...overrides }));
    expect(res.status).toBe(403);
    expect((await problemOf(res)).code).toBe("forbidden_operation");
    expect(await keyCount()).toBe(before);
  });

  it("gives a domain pattern's identities only its operations, an exact entry winning over the pattern", async () => {
    const reader = await sign({ ...validClaims(), email: "reader@example.com" });
    const denied = await createWith(reader);
    expect(denied.status).toBe(403);
    expect((await problemOf(denied)).code).toBe("forbidden_operation");
    const list = await callWith(ACCESS, "/admin/v1/keys", { headers: { "Cf-Access-Jwt-Assertion": reader } });
    expect(list.status).toBe(200);
  });

  it("limits an entry with consumers to them: another consumer is 404, its own is created", async () => {
    const partner = await sign({ ...validClaims(), email: "dev@partner.example" });
    const other = await createWith(partner, ACCESS, "someone-else");
    expect(other.status).toBe(404);
    expect((await problemOf(other)).code).toBe("consumer_not_found");
    expect((await createWith(partner, ACCESS, "partner-co")).status).toBe(201);
  });

  it("answers 503 for a malformed ACCESS_POLICY and admits no one", async () => {
    const res = await createWith(await sign(validClaims()), {
      ...ACCESS,
      ACCESS_POLICY: '[{"email":"ops@example.com"}]',
    });
    expect(res.status).toBe(503);
  });

  it.each([
    ["another audience", { ...validClaims(), aud: ["someone-else"] }, {}],
    ["another issuer", { ...validClaims(), iss: "https://evil.example.com" }, {}],
    ["an expired token", { ...validClaims(), exp: now() - 3600 }, {}],
    ["a token not yet valid", { ...validClaims(), nbf: now() + 3600 }, {}],
    ["neither email nor common_name", { ...validClaims(), email: undefined }, {}],
    ["a signature by another key", validClaims(), { key: "other" }],
    ["an unknown key id", validClaims(), { kid: "kid-unknown" }],
    ["alg none", validClaims(), { alg: "none" }],
  ])(
    "refuses %s with 401 and creates nothing",
    async (_label, claims, opts: { key?: string; kid?: string; alg?: string }) => {
      const jwt = await sign(claims, {
        key: opts.key === "other" ? otherKey : signingKey,
        kid: opts.kid ?? "kid-1",
        alg: opts.alg ?? "RS256",
      });
      const res = await createWith(jwt);
      expect(res.status).toBe(401);
      expect((await problemOf(res)).code).toBe("admin_unauthorized");
    },
  );

  it("refuses a tampered payload under a valid signature", async () => {
    const [h, , s] = (await sign(validClaims())).split(".");
    const forged = `${h}.${encodeJson({ ...validClaims(), email: "root@example.com" })}.${s}`;
    expect((await createWith(forged)).status).toBe(401);
  });

  it("ignores the header when Access is not configured, and fails closed when half configured", async () => {
    const jwt = await sign(validClaims());
    expect((await createWith(jwt, {})).status).toBe(401);
    const half = await createWith(jwt, { ACCESS_TEAM_DOMAIN: TEAM });
    expect(half.status).toBe(503);
  });

  it("works without ADMIN_TOKEN when Access is configured", async () => {
    expect((await createWith(await sign(validClaims()), { ...ACCESS, ADMIN_TOKEN: undefined })).status).toBe(201);
  });
});
