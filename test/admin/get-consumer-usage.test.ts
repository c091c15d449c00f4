/**
 * GET /admin/v1/consumers/{id}/usage (src/operations/usage.ts): one consumer's decisions, all its keys',
 * per UTC day and outcome (test/monitoring/consumer-usage.test.ts counts them through the gateway).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ConsumerUsageResult, KeyUsageResult } from "../../src/operations/usage";
import { utcDay } from "../../src/util/time";
import { testClock } from "../clock";
import { admin, mintKey, problemOf, revoke } from "../helpers";
import { flush, getJson, putConsumer, request } from "../monitoring/helpers";
import { itRefusesWrongCredentials } from "./helpers";

const usageOf = (id: string, query = "") =>
  getJson<Extract<ConsumerUsageResult, { granularity: "day" }>>(`/consumers/${encodeURIComponent(id)}/usage${query}`);

describe("happy path", () => {
  it("answers a consumer without decisions with zero days, its id first, shaped as a key's usage", async () => {
    await putConsumer("team-quiet");
    const { status, body } = await usageOf("team-quiet", "?from=2026-03-01&to=2026-03-03");
    expect(status).toBe(200);
    expect(Object.keys(body)[0]).toBe("consumer_id");
    expect(body).toEqual({
      consumer_id: "team-quiet",
      from: "2026-03-01",
      to: "2026-03-03",
      granularity: "day",
      total: 0,
      outcomes: {},
      days: ["2026-03-01", "2026-03-02", "2026-03-03"].map((day) => ({ day, total: 0, outcomes: {} })),
    });
    const { id } = await mintKey({ owner_id: "team-quiet" });
    const key = await getJson<KeyUsageResult>(`/keys/${id}/usage?from=2026-03-01&to=2026-03-03`);
    const { key_id: _, ...keyShape } = key.body;
    const { consumer_id: __, ...consumerShape } = body;
    expect(Object.keys(consumerShape)).toEqual(Object.keys(keyShape));
  });

  it("adds up every key of the consumer, and only its keys", async () => {
    await putConsumer("team-sum");
    const [a, b] = [await mintKey({ owner_id: "team-sum" }), await mintKey({ owner_id: "team-sum" })];
    const other = await mintKey({ owner_id: "team-other" });
    for (const key of [a, a, b, other]) expect(await request(key.apiKey)).toBe(200);
    expect(await request(b.apiKey, { method: "POST" })).toBe(403); // read scope only
    await flush();
    const today = utcDay(testClock.now());
    const { body } = await usageOf("team-sum", `?from=${today}&to=${today}`);
    expect(body).toMatchObject({ total: 4, outcomes: { valid: 3, insufficient_scope: 1 } });
    expect(body.days).toEqual([{ day: today, total: 4, outcomes: { insufficient_scope: 1, valid: 3 } }]);
  });

  it("a deleted consumer's row stays, and so does its usage; ids with ':' '@' '+' are addressed encoded", async () => {
    await putConsumer("acme:team+ops@example.com");
    const key = await mintKey({ owner_id: "acme:team+ops@example.com" });
    expect(await request(key.apiKey)).toBe(200);
    await flush();
    expect((await revoke(key.id)).status).toBe(200);
    await putConsumer("acme:team+ops@example.com", { status: "deleted" });
    const { status, body } = await usageOf("acme:team+ops@example.com");
    expect(status).toBe(200);
    expect(body.outcomes).toEqual({ valid: 1 });
    expect(body.days).toHaveLength(30);
  });
});

describe("errors", () => {
  it("refuses bad ranges, unknown and repeated parameters with 400", async () => {
    await putConsumer("team-errors");
    for (const query of [
      "?from=2026-02-30",
      "?from=2026-05-02&to=2026-05-01",
      "?from=2024-01-01&to=2026-01-01",
      "?days=3",
      "?group_by=consumer", // only GET /usage groups
      "?from=2026-05-01&from=2026-05-02",
      "?to=2026-05-01&to=2026-05-01",
    ]) {
      const res = await admin(`/consumers/team-errors/usage${query}`, { method: "GET" });
      expect(res.status, query).toBe(400);
      expect((await problemOf(res)).code, query).toBe("invalid_request");
    }
  });

  it("answers 404 consumer_not_found for an id no consumer row has, even if keys are owned by it", async () => {
    await mintKey({ owner_id: "owner-without-row" }); // creates its consumer: remove the row, as a hand edit would
    await env.DB.prepare("DELETE FROM consumers WHERE id = 'owner-without-row'").run();
    for (const id of ["team-nobody", "owner-without-row", "x".repeat(129)]) {
      const res = await admin(`/consumers/${id}/usage`, { method: "GET" });
      expect(res.status, id).toBe(404);
      expect((await problemOf(res)).code).toBe("consumer_not_found");
    }
  });
});

describe("security", () => {
  itRefusesWrongCredentials(async () => {
    await putConsumer("team-creds");
    return { method: "GET", path: "/consumers/team-creds/usage" };
  });

  it("ids that are not safe path segments, or not in the grammar, are not found; never matched", async () => {
    await putConsumer(".");
    await putConsumer("..");
    // The URL parser itself resolves encoded dots as path segments, before any route is matched: `.` leaves
    // /consumers/usage (the consumer "usage", which does not exist), `..` climbs to /usage (every decision's
    // totals, never a consumer's).
    const dot = await admin("/consumers/%2E/usage", { method: "GET" });
    expect(dot.status).toBe(404);
    expect((await problemOf(dot)).code).toBe("consumer_not_found");
    const dotDot = await getJson("/consumers/%2e%2E/usage");
    expect(dotDot.status).toBe(200);
    expect(dotDot.body).not.toHaveProperty("consumer_id");
    for (const id of ["%2F", "a%2Fb", encodeURIComponent("' OR '1'='1"), "%00", "__proto__x%20"]) {
      const res = await admin(`/consumers/${id}/usage`, { method: "GET" });
      expect(res.status, id).toBe(404);
      expect((await problemOf(res)).code, id).toBe("consumer_not_found");
    }
    // '.' and '..' (legacy owner ids) are reached by the query parameter instead.
    expect((await getJson("/usage?consumer_id=..")).status).toBe(200);
  });

  it("refuses query parameters that reach for a prototype, and never echoes them", async () => {
    await putConsumer("team-proto");
    const res = await admin("/consumers/team-proto/usage?__proto__=1&constructor=x", { method: "GET" });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).not.toContain("constructor=x");
  });
});
