/** GET /admin/v1/keys/{id}/usage (src/operations/usage.ts): one key's decisions per UTC day and outcome. */
import { describe, expect, it } from "vitest";
import type { KeyUsageResult } from "../../src/operations/usage";
import { mintKey, revoke } from "../helpers";
import { getJson } from "../monitoring/helpers";
import { itRefusesWrongCredentials } from "./helpers";

describe("happy path", () => {
  it("answers a new key's range with zero days, its id first", async () => {
    const { id } = await mintKey();
    const { status, body } = await getJson<KeyUsageResult>(`/keys/${id}/usage?from=2026-03-01&to=2026-03-03`);
    expect(status).toBe(200);
    expect(Object.keys(body)[0]).toBe("key_id");
    expect(body).toEqual({
      key_id: id,
      from: "2026-03-01",
      to: "2026-03-03",
      granularity: "day",
      total: 0,
      outcomes: {},
      days: ["2026-03-01", "2026-03-02", "2026-03-03"].map((day) => ({ day, total: 0, outcomes: {} })),
    });
  });
});

describe("errors", () => {
  it("refuses bad ranges and unknown keys", async () => {
    const key = await mintKey();
    expect((await getJson(`/keys/${key.id}/usage?from=2026-02-30`)).status).toBe(400);
    expect((await getJson(`/keys/${key.id}/usage?from=2026-05-02&to=2026-05-01`)).status).toBe(400);
    expect((await getJson(`/keys/key_${"A".repeat(22)}/usage`)).status).toBe(404);
  });
});

describe("security", () => {
  itRefusesWrongCredentials(async () => ({ method: "GET", path: `/keys/${(await mintKey()).id}/usage` }));

  it("a revoked key's usage stays readable; an id that no key can have is 404", async () => {
    const { id } = await mintKey();
    await revoke(id);
    expect((await getJson(`/keys/${id}/usage`)).status).toBe(200);
    expect((await getJson(`/keys/${encodeURIComponent("key_' OR '1'='1")}/usage`)).status).toBe(404);
  });
});
