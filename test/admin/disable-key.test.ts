/** POST /admin/v1/keys/{id}/disable (src/operations/set-key-status.ts): refused as key_disabled until enabled. */
import { describe, expect, it } from "vitest";
import type { KeyView } from "../../src/keys/key-record";
import { admin, mintKey, problemOf } from "../helpers";
import { itRefusesWrongCredentials, through, versionOf } from "./helpers";

describe("happy path", () => {
  it("a disabled key is refused as key_disabled until enabled; revoked is final", async () => {
    const { id, apiKey } = await mintKey();
    expect((await through(apiKey)).status).toBe(200);
    expect(((await (await admin(`/keys/${id}/disable`)).json()) as KeyView).status).toBe("disabled");
    expect((await problemOf(await through(apiKey))).code).toBe("key_disabled");
    expect((await admin(`/keys/${id}/disable`)).status).toBe(200); // idempotent
    expect(((await (await admin(`/keys/${id}/enable`)).json()) as KeyView).status).toBe("active");
    expect((await through(apiKey)).status).toBe(200);
    await admin(`/keys/${id}/revoke`);
    expect((await admin(`/keys/${id}/enable`)).status).toBe(409);
    expect((await problemOf(await through(apiKey))).code).toBe("key_revoked");
  });
});

describe("errors", () => {
  it("answers 404 for a key that does not exist, and 400 for a body that is not empty", async () => {
    expect((await problemOf(await admin("/keys/key_AAAAAAAAAAAAAAAAAAAAAA/disable"))).code).toBe("key_not_found");
    const { id } = await mintKey();
    const before = await versionOf(id);
    expect((await admin(`/keys/${id}/disable`, { json: { status: "disabled" } })).status).toBe(400);
    expect(await versionOf(id)).toBe(before);
  });
});

describe("security", () => {
  itRefusesWrongCredentials(async () => ({ method: "POST", path: `/keys/${(await mintKey()).id}/disable` }));

  it("refuses to disable a revoked key (409), which stays revoked", async () => {
    const { id, apiKey } = await mintKey();
    await admin(`/keys/${id}/revoke`);
    const res = await admin(`/keys/${id}/disable`);
    expect(res.status).toBe(409);
    expect((await problemOf(res)).code).toBe("key_state_conflict");
    expect((await problemOf(await through(apiKey))).code).toBe("key_revoked");
  });
});
