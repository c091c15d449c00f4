/** GET /admin/v1/usage (src/operations/usage.ts): every decision per UTC day and outcome (test/monitoring/usage.test.ts counts them). */
import { describe, expect, it } from "vitest";
import type { UsageReport } from "../../src/monitoring/usage-store";
import { getJson } from "../monitoring/helpers";
import { itRefusesWrongCredentials } from "./helpers";

describe("happy path", () => {
  it("answers the range asked for, every day listed, and the last 30 days by default", async () => {
    const { status, body } = await getJson<UsageReport>("/usage?from=2026-01-30&to=2026-02-02");
    expect(status).toBe(200);
    expect(body).toMatchObject({ from: "2026-01-30", to: "2026-02-02" });
    expect(body.days.map((d) => d.day)).toEqual(["2026-01-30", "2026-01-31", "2026-02-01", "2026-02-02"]);
    expect(body.total).toBe(body.days.reduce((sum, d) => sum + d.total, 0));
    expect((await getJson<UsageReport>("/usage")).body.days).toHaveLength(30);
  });
});

describe("errors", () => {
  it("refuses bad ranges", async () => {
    expect((await getJson(`/usage?from=2024-01-01&to=2026-01-01`)).status).toBe(400);
    expect((await getJson(`/usage?from=yesterday`)).status).toBe(400);
    expect((await getJson(`/usage?days=3`)).status).toBe(400);
  });
});

describe("security", () => {
  itRefusesWrongCredentials(async () => ({ method: "GET", path: "/usage" }));
});
