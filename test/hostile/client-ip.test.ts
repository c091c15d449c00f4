/**
 * The client address comes from CF-Connecting-IP, which Cloudflare sets, and from nothing a client can
 * write. Spoofing headers never satisfy an allowlist nor move a client out of its refusal-throttle bucket,
 * odd spellings of CF-Connecting-IP match nothing, and an allowlist entry that any parser could read two
 * ways is refused when written, leaving the key as it was.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { generateKey } from "../../src/keys/format";
import { clearIsolateCaches } from "../../src/keys/lookup";
import { admin, callWith, mintKey, originSaw } from "../helpers";
import { d1Snapshot } from "../faults/wrappers";
import { expectRefusal } from "./expect";

const SPOOFING_HEADERS = [
  "X-Forwarded-For",
  "X-Real-IP",
  "True-Client-IP",
  "X-Client-IP",
  "Client-IP",
  "X-Cluster-Client-IP",
  "Fastly-Client-IP",
  "X-Original-Forwarded-For",
  "CF-Connecting-IPv6",
  "X-Originating-IP",
  "X-Remote-IP",
  "X-Remote-Addr",
];

let restricted: { apiKey: string; id: string };
beforeEach(async () => {
  clearIsolateCaches();
  restricted ??= await mintKey({ ip_allowlist: ["203.0.113.0/24", "2001:db8::/32"] });
});

async function from(
  headers: Record<string, string>,
  apiKey = restricted.apiKey,
  settings: Partial<Cloudflare.Env> = {},
) {
  const trace = crypto.randomUUID();
  const res = await callWith(settings, "/api/v1/x", {
    headers: { "X-API-Key": apiKey, "X-Test-Trace": trace, ...headers },
  });
  return { res, reached: await originSaw(trace) };
}

describe("client-IP spoofing headers", () => {
  it.each(SPOOFING_HEADERS)(
    "%s with an allowed address never satisfies the allowlist, with or without CF-Connecting-IP",
    async (name) => {
      for (const headers of [
        { [name]: "203.0.113.7" },
        { [name]: "203.0.113.7", "CF-Connecting-IP": "198.51.100.1" },
      ]) {
        const { res, reached } = await from(headers);
        await expectRefusal(res, 403, "ip_not_allowed", [restricted.apiKey]);
        expect(reached).toBe(false);
      }
    },
  );

  it("the Forwarded header (RFC 7239) is ignored as well", async () => {
    const { res } = await from({ Forwarded: 'for="[2001:db8::1]";proto=https, for=203.0.113.7' });
    await expectRefusal(res, 403, "ip_not_allowed");
  });

  it("control: CF-Connecting-IP inside the allowlist is admitted, even beside spoofing headers saying otherwise", async () => {
    const { res, reached } = await from({ "CF-Connecting-IP": "203.0.113.7", "X-Forwarded-For": "198.51.100.1" });
    expect(res.status).toBe(200);
    expect(reached).toBe(true);
  });

  it("a throttled client cannot leave its bucket by claiming another address in a spoofing header", async () => {
    const settings = { REFUSAL_THROTTLE_LIMIT: "2" };
    const ip = "198.51.100.77";
    for (let i = 0; i < 2; i++)
      expect((await from({ "CF-Connecting-IP": ip }, generateKey("", "secret", "live"), settings)).res.status).toBe(
        401,
      );
    const unrestricted = await mintKey();
    for (const name of SPOOFING_HEADERS) {
      const { res } = await from({ "CF-Connecting-IP": ip, [name]: "192.0.2.1" }, unrestricted.apiKey, settings);
      await expectRefusal(res, 429, "rate_limited", [unrestricted.apiKey]);
    }
  });
});

describe("CF-Connecting-IP spellings", () => {
  it.each([
    "203.0.113.7, 198.51.100.1",
    "203.0.113.7:443",
    "203.000.113.7",
    "0313.0.113.7",
    "0xcb.0.113.7",
    "203.0.113",
    "203.0.113.7.1",
    "[2001:db8::1]",
    "2001:db8::1%eth0",
    "2001:db8::1/128",
    "unknown",
    "",
  ])("%j matches no range", async (ip) => {
    const { res, reached } = await from({ "CF-Connecting-IP": ip });
    await expectRefusal(res, 403, "ip_not_allowed");
    expect(reached).toBe(false);
  });

  it.each(["::ffff:203.0.113.7", "::FFFF:cb00:7107", "2001:DB8:0:0:0:0:0:1", "2001:db8::1"])(
    "%j is read as the address it is, and admitted",
    async (ip) => {
      expect((await from({ "CF-Connecting-IP": ip })).res.status).toBe(200);
    },
  );
});

describe("allowlist entries an admin may write", () => {
  const BAD_ENTRIES = [
    "10.0.0.1/8",
    "1.2.3.4/33",
    "::/129",
    "1.2.3.4/08",
    "1.2.3.4/",
    "/24",
    "1.2.3.4 /24",
    " 1.2.3.4",
    "1.2.3.4/24\n",
    "fe80::1%eth0",
    "010.0.0.1",
    "0x7f000001",
    "2130706433",
    "1.2.3.256",
    "1.2.3",
    "2001:db8::/32/1",
    "::ffff:1.2.3.4/97",
    "*",
    "1.2.3.4-1.2.3.9",
    "2001:db8:::1",
  ];

  it.each(BAD_ENTRIES)("%j is refused at creation (400), and nothing is written", async (entry) => {
    const before = await d1Snapshot();
    const res = await admin("/keys", { json: { owner_id: "ip-edge", ip_allowlist: ["203.0.113.0/24", entry] } });
    await expectRefusal(res, 400, "invalid_request");
    const body = (await res.json()) as { errors: { path: string }[] };
    expect(body.errors.map((e) => e.path)).toEqual(["ip_allowlist.1"]);
    expect(await d1Snapshot()).toBe(before);
  });

  it("a bad entry in an update is refused, and the key keeps its allowlist", async () => {
    const before = await d1Snapshot();
    for (const entry of BAD_ENTRIES) {
      const res = await admin(`/keys/${restricted.id}`, { method: "PATCH", json: { ip_allowlist: [entry] } });
      await expectRefusal(res, 400, "invalid_request");
    }
    expect(await d1Snapshot()).toBe(before);
  });

  it("the widest ranges keep to their family: 0.0.0.0/0 admits no IPv6 client, ::/0 no IPv4 client", async () => {
    const v4all = await mintKey({ ip_allowlist: ["0.0.0.0/0"] });
    const v6all = await mintKey({ ip_allowlist: ["::/0"] });
    expect((await from({ "CF-Connecting-IP": "198.51.100.1" }, v4all.apiKey)).res.status).toBe(200);
    await expectRefusal((await from({ "CF-Connecting-IP": "2001:db8::1" }, v4all.apiKey)).res, 403, "ip_not_allowed");
    expect((await from({ "CF-Connecting-IP": "2001:db8::1" }, v6all.apiKey)).res.status).toBe(200);
    await expectRefusal((await from({ "CF-Connecting-IP": "198.51.100.1" }, v6all.apiKey)).res, 403, "ip_not_allowed");
    // Nothing above changed the keys.
    const row = await env.DB.prepare("SELECT ip_allowlist FROM api_keys WHERE id = ?")
      .bind(v4all.id)
      .first<{ ip_allowlist: string }>();
    expect(JSON.parse(row!.ip_allowlist)).toEqual(["0.0.0.0/0"]);
  });
});
