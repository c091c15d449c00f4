/**
 * GET /admin/v1/usage (src/operations/usage.ts): every decision per UTC day and outcome, one consumer's, or a
 * page of consumers' (test/monitoring/usage.test.ts and consumer-usage.test.ts count them).
 */
import { describe, expect, it } from "vitest";
import type { UsageByConsumer, UsageReport } from "../../src/monitoring/usage-store";
import { utcDay } from "../../src/util/time";
import { testClock } from "../clock";
import { mintKey, type MintedKey } from "../helpers";
import { flush, getJson, request } from "../monitoring/helpers";
import { itRefusesWrongCredentials } from "./helpers";

/** Keys of three consumers, with 1, 2 and 3 admissions today. */
async function threeConsumers(prefix: string): Promise<MintedKey[]> {
  const keys = [];
  for (const [i, owner] of ["a", "b", "c"].entries()) {
    const key = await mintKey({ owner_id: `${prefix}-${owner}` });
    for (let n = 0; n <= i; n++) expect(await request(key.apiKey)).toBe(200);
    keys.push(key);
  }
  await flush();
  return keys;
}

describe("happy path", () => {
  it("answers the range asked for, every day listed, and the last 30 days by default", async () => {
    const { status, body } = await getJson<UsageReport>("/usage?from=2026-01-30&to=2026-02-02");
    expect(status).toBe(200);
    expect(body).toMatchObject({ from: "2026-01-30", to: "2026-02-02" });
    expect(body.days.map((d) => d.day)).toEqual(["2026-01-30", "2026-01-31", "2026-02-01", "2026-02-02"]);
    expect(body.total).toBe(body.days.reduce((sum, d) => sum + d.total, 0));
    expect((await getJson<UsageReport>("/usage")).body.days).toHaveLength(30);
  });

  it("group_by=consumer: consumers with decisions in the range, by id, a page at a time", async () => {
    await threeConsumers("page");
    const today = utcDay(testClock.now());
    const first = await getJson<UsageByConsumer>(`/usage?group_by=consumer&from=${today}&to=${today}&limit=2`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ from: today, to: today, group_by: "consumer" });
    const mine = (page: UsageByConsumer) => page.consumers.filter((c) => c.consumer_id.startsWith("page-"));
    const seen = [...mine(first.body)];
    let cursor = first.body.next_cursor;
    for (let pages = 0; cursor !== null && pages < 10; pages++) {
      const next = await getJson<UsageByConsumer>(
        `/usage?group_by=consumer&from=${today}&to=${today}&limit=2&cursor=${cursor}`,
      );
      expect(next.status).toBe(200);
      expect(next.body.consumers.length).toBeLessThanOrEqual(2);
      seen.push(...mine(next.body));
      cursor = next.body.next_cursor;
    }
    expect(cursor).toBeNull();
    expect(seen).toEqual(
      ["page-a", "page-b", "page-c"].map((consumer_id, i) => ({
        consumer_id,
        total: i + 1,
        outcomes: { valid: i + 1 },
        days: [{ day: today, total: i + 1, outcomes: { valid: i + 1 } }],
      })),
    );
    // A range without their decisions lists none of them.
    const before = await getJson<UsageByConsumer>("/usage?group_by=consumer&from=2020-01-01&to=2020-01-31");
    expect(mine(before.body)).toEqual([]);
    expect(before.body.next_cursor).toBeNull();
  });

  it("consumer_id: one consumer's decisions, as totals or as its entry in the grouping", async () => {
    await threeConsumers("one");
    const today = utcDay(testClock.now());
    const totals = await getJson<UsageReport>(`/usage?consumer_id=one-c&from=${today}&to=${today}`);
    expect(totals.body).toEqual({
      from: today,
      to: today,
      granularity: "day",
      total: 3,
      outcomes: { valid: 3 },
      days: [{ day: today, total: 3, outcomes: { valid: 3 } }],
    });
    const grouped = await getJson<UsageByConsumer>(`/usage?group_by=consumer&consumer_id=one-b`);
    expect(grouped.body.consumers.map((c) => [c.consumer_id, c.total])).toEqual([["one-b", 2]]);
    expect(grouped.body.next_cursor).toBeNull();
    const nobody = await getJson<UsageByConsumer>(`/usage?group_by=consumer&consumer_id=one-nobody`);
    expect(nobody.body.consumers).toEqual([]);
  });
});

describe("errors", () => {
  it("refuses bad ranges", async () => {
    expect((await getJson(`/usage?from=2024-01-01&to=2026-01-01`)).status).toBe(400);
    expect((await getJson(`/usage?from=yesterday`)).status).toBe(400);
    expect((await getJson(`/usage?days=3`)).status).toBe(400);
  });

  it("refuses unknown groupings, paging without grouping, bad limits and cursors", async () => {
    for (const query of [
      "group_by=key",
      "group_by=",
      "limit=5",
      "cursor=b25l",
      "group_by=consumer&limit=0",
      "group_by=consumer&limit=101",
      "group_by=consumer&cursor=not*a*cursor",
      `group_by=consumer&cursor=${btoa("bad id with spaces")}`,
      "consumer_id=",
      `consumer_id=${"x".repeat(129)}`,
    ]) {
      const res = await getJson<{ code: string }>(`/usage?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.code, query).toBe("invalid_request");
    }
  });
});

describe("security", () => {
  itRefusesWrongCredentials(async () => ({ method: "GET", path: "/usage" }));
  itRefusesWrongCredentials(async () => ({ method: "GET", path: "/usage?group_by=consumer" }));

  it("refuses a consumer filter shaped like SQL (400); a cursor cannot reach past its own id", async () => {
    expect((await getJson(`/usage?consumer_id=${encodeURIComponent("x' OR '1'='1")}`)).status).toBe(400);
    expect((await getJson(`/usage?group_by=consumer&cursor=${encodeURIComponent("' OR 1=1 --")}`)).status).toBe(400);
  });
});
