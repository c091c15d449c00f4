/**
 * JSON body attacks on the admin routes: wrong types in every field, huge and deeply nested bodies,
 * duplicate property names, prototype pollution, and content-type tricks. Each is the documented 4xx, the
 * submitted values are not echoed back, and nothing changes in D1.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, mintKey } from "../helpers";
import { d1Snapshot } from "../faults/wrappers";
import { expectRefusal } from "./expect";

let id: string;
beforeAll(async () => {
  id = (await mintKey()).id;
});

const post = (path: string, body: string, contentType = "application/json", method = "POST") =>
  call(`/admin/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": contentType },
    body,
  });

/** The routes that take a body, with a valid body for each (so that only the hostile part is wrong). */
const ROUTES: [string, string, () => string, Record<string, unknown>][] = [
  ["create", "POST", () => "/keys", { owner_id: "hostile" }],
  ["update", "PATCH", () => `/keys/${id}`, { name: "x" }],
  ["revoke", "POST", () => `/keys/${id}/revoke`, { reason: "x" }],
  ["rotate", "POST", () => `/keys/${id}/rotate`, { grace_period_hours: 1 }],
  ["disable", "POST", () => `/keys/${id}/disable`, {}],
];

async function expectUnchanged(run: () => Promise<void>) {
  const before = await d1Snapshot();
  await run();
  expect(await d1Snapshot()).toBe(before);
}

describe("wrong types", () => {
  const MARKER = "hostile-marker-7f3a";
  const notAList = [null, true, 1, MARKER, { [MARKER]: 1 }];
  const notAString = [null, true, 1, [MARKER], { [MARKER]: 1 }];
  const notAnInt = [null, true, 1.5, -1, 0, 1e308, "1", [], { [MARKER]: 1 }];
  const fields: [string, string, unknown[]][] = [
    ["create", "type", [...notAString, "admin", "SECRET"]],
    ["create", "environment", [...notAString, "prod", ""]],
    ["create", "owner_id", [...notAString, "", "a b", "o'; --", "x".repeat(129)]],
    ["create", "name", [...notAString, "a\u0000b", "x".repeat(201)]],
    ["create", "scopes", [...notAList, [1], [null], ["Admin"], [MARKER.toUpperCase()]]],
    [
      "create",
      "rate_limits",
      [
        ...notAList,
        [],
        [{}],
        [{ name: "h", limit: 0, window_seconds: 60 }],
        [{ name: "h", limit: "1", window_seconds: 60 }],
      ],
    ],
    ["create", "ip_allowlist", [...notAList, [1], [null], [{}]]],
    ["create", "allowed_routes", [...notAList, [1], ["/no-method"], [`GET ${MARKER}`]]],
    ["create", "allowed_origins", [...notAList, [1], ["*"], ["https://a.test/path"]]],
    ["create", "expires_in_days", notAnInt],
    ["create", "metadata", [null, true, 1, MARKER, [MARKER], { k: "x".repeat(2000) }]],
    ["update", "expires_at", [...notAString, "tomorrow", "2026-13-01T00:00:00Z", 1e12]],
    ["update", "scopes", [...notAList, [1]]],
    ["update", "rate_limits", [...notAList, []]],
    ["revoke", "reason", [...notAString, "", "a\nb"]],
    ["rotate", "grace_period_hours", [...notAnInt.filter((v) => v !== 0), 721]],
    ["rotate", "expires_in_days", notAnInt],
  ];
  it.each(fields)(
    "%s: %s with a wrong type or shape is 400 naming the field, and the value is not echoed",
    async (route, field, values) => {
      const [, method, path, valid] = ROUTES.find(([name]) => name === route)!;
      await expectUnchanged(async () => {
        for (const value of values) {
          const res = await post(path(), JSON.stringify({ ...valid, [field]: value }), "application/json", method);
          await expectRefusal(res, 400, "invalid_request", [MARKER, MARKER.toUpperCase()]);
          const body = (await res.json()) as { errors: { path: string }[] };
          expect(
            body.errors.map((e) => e.path.split(".")[0]),
            JSON.stringify(value),
          ).toContain(field);
        }
      });
    },
  );

  it.each(ROUTES)(
    "%s: fields that are not in the schema (id, status, key_hash, version…) are 400",
    async (_name, method, path, valid) => {
      await expectUnchanged(async () => {
        for (const extra of [
          "id",
          "status",
          "key_hash",
          "version",
          "usage_count",
          "lineage_id",
          "revoked_at",
          "created_at",
          "Name",
          "owner_id ",
        ]) {
          if (extra === "owner_id " && _name !== "create") continue;
          const res = await post(path(), JSON.stringify({ ...valid, [extra]: "active" }), "application/json", method);
          await expectRefusal(res, 400, "invalid_request");
        }
      });
    },
  );

  it.each(["[]", '"x"', "1", "null", "true"])(
    "a body that is JSON but not an object (%s) is 400 everywhere",
    async (text) => {
      await expectUnchanged(async () => {
        for (const [, method, path] of ROUTES)
          await expectRefusal(await post(path(), text, "application/json", method), 400, "invalid_request");
      });
    },
  );
});

describe("size and depth", () => {
  it.each(ROUTES)(
    "%s: a body over 16 KB is 413, whether or not Content-Length says so",
    async (_name, method, path) => {
      await expectUnchanged(async () => {
        const huge = JSON.stringify({ name: "x".repeat(20_000) });
        await expectRefusal(await post(path(), huge, "application/json", method), 413, "payload_too_large");
        const stream = new ReadableStream({
          start(controller) {
            for (let i = 0; i < 40; i++) controller.enqueue(new TextEncoder().encode(" ".repeat(1024)));
            controller.close();
          },
        });
        const res = await call(`/admin/v1${path()}`, {
          method,
          headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
          body: stream,
          duplex: "half",
        } as RequestInit);
        await expectRefusal(res, 413, "payload_too_large");
      });
    },
  );

  it.each([
    ["arrays", (n: number) => "[".repeat(n) + "]".repeat(n)],
    ["objects", (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n)],
    ["metadata", (n: number) => `{"owner_id":"o","metadata":${'{"a":'.repeat(n)}1${"}".repeat(n)}}`],
  ])("nesting %s as deep as 16 KB allows is a 400, never a 500", async (_label, nest) => {
    await expectUnchanged(async () => {
      for (const n of [1000, 3000]) {
        const text = nest(n);
        if (text.length > 16 * 1024) continue;
        await expectRefusal(await post("/keys", text), 400, "invalid_request");
      }
    });
  });

  it("lists at the edge of their bounds: 33 scopes or 101 allowlist entries are 400", async () => {
    await expectUnchanged(async () => {
      const scopes = Array.from({ length: 33 }, (_, i) => `s${i}`);
      await expectRefusal(await post("/keys", JSON.stringify({ owner_id: "o", scopes })), 400, "invalid_request");
      const ip_allowlist = Array.from({ length: 101 }, (_, i) => `10.0.${i}.0/24`);
      await expectRefusal(await post("/keys", JSON.stringify({ owner_id: "o", ip_allowlist })), 400, "invalid_request");
    });
  });
});

describe("duplicate property names", () => {
  it.each([
    ['{"owner_id":"a","owner_id":"b"}'],
    ['{"owner_id":"a","owner_\\u0069d":"b"}'],
    ['{"owner_id":"a","metadata":{"k":1,"k":2}}'],
    ['{"owner_id":"a","rate_limits":[{"name":"h","limit":1,"limit":1000000,"window_seconds":60}]}'],
    ['{"owner_id":"a", "scopes":["read"] , "scopes" :["admin"]}'],
  ])("%s is 400: which value counts would depend on the reader", async (text) => {
    await expectUnchanged(async () => {
      await expectRefusal(await post("/keys", text), 400, "invalid_request");
    });
  });

  it("control: the same names in different objects, or as values, are fine", async () => {
    const res = await post(
      "/keys",
      '{"owner_id":"dup-ok","metadata":{"owner_id":"owner_id","a":{"owner_id":1}},"name":"owner_id"}',
    );
    expect(res.status).toBe(201);
  });

  it("a duplicate in a PATCH is refused too, and the key keeps its settings", async () => {
    await expectUnchanged(async () => {
      await expectRefusal(
        await post(`/keys/${id}`, '{"scopes":["read"],"scopes":["admin"]}', "application/json", "PATCH"),
        400,
        "invalid_request",
      );
    });
  });
});

describe("prototype pollution", () => {
  it.each([
    ['{"owner_id":"a","__proto__":{"scopes":["admin"]}}'],
    ['{"owner_id":"a","\\u005f\\u005fproto__":{"scopes":["admin"]}}'],
    ['{"owner_id":"a","constructor":{"prototype":{"admin":true}}}'],
    ['{"owner_id":"a","metadata":{"__proto__":{"isAdmin":true}}}'],
    ['{"owner_id":"a","rate_limits":[{"__proto__":{"limit":1000000000},"name":"h","limit":1,"window_seconds":60}]}'],
  ])("%s is 400, and no object anywhere gains the property", async (text) => {
    await expectUnchanged(async () => {
      await expectRefusal(await post("/keys", text), 400, "invalid_request");
    });
    expect(({} as Record<string, unknown>).scopes).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});

describe("content type and encoding", () => {
  it.each([
    ["text/plain", 415, "unsupported_media_type"],
    ["application/jsonp", 415, "unsupported_media_type"],
    ["application/x-www-form-urlencoded", 415, "unsupported_media_type"],
    ["multipart/form-data; boundary=x", 415, "unsupported_media_type"],
    ["", 415, "unsupported_media_type"],
  ] as const)("Content-Type %j is %i", async (type, status, code) => {
    await expectUnchanged(async () => {
      await expectRefusal(await post("/keys", '{"owner_id":"ct"}', type), status, code);
    });
  });

  it("a body that is not UTF-8, or JSON with a trailing second document, is 400", async () => {
    await expectUnchanged(async () => {
      const latin1 = new Uint8Array([
        ...new TextEncoder().encode('{"owner_id":"a","name":"'),
        0xe9,
        ...new TextEncoder().encode('"}'),
      ]);
      const res = await call("/admin/v1/keys", {
        method: "POST",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: latin1,
      });
      await expectRefusal(res, 400, "invalid_request");
      await expectRefusal(await post("/keys", '{"owner_id":"a"}{"owner_id":"b"}'), 400, "invalid_request");
      await expectRefusal(await post("/keys", '{"owner_id":"a"} // comment'), 400, "invalid_request");
    });
  });
});
