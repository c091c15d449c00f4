/** GET /admin/v1/consumers (src/operations/list-consumers.ts): consumers newest first, filtered, a page at a time. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ListConsumersResult } from "../../src/operations/list-consumers";
import { expectRefusal } from "../hostile/expect";
import { admin, mintKey } from "../helpers";
import { testClock } from "../clock";
import { makeConsumer, newConsumerId, setConsumerStatus } from "./consumer-helpers";
import { itRefusesWrongCredentials } from "./helpers";

const list = async (query: string) => {
  const res = await admin(`/consumers?${query}`, { method: "GET" });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as ListConsumersResult;
};

describe("happy path", () => {
  it("pages through every consumer newest first, with cursors, each exactly once", async () => {
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      made.push((await makeConsumer()).id);
      testClock.advance(1);
    }
    // Two created in the same millisecond: the id breaks the tie, and the keyset still sees each once.
    made.push((await makeConsumer()).id, (await makeConsumer()).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: ListConsumersResult = await list(`limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.consumers.length).toBeLessThanOrEqual(2);
      seen.push(...page.consumers.map((c) => c.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of made) expect(seen).toContain(id);
    // Newest first: the last made come before the first made.
    expect(seen.indexOf(made[0]!)).toBeGreaterThan(seen.indexOf(made[4]!));
  });

  it("filters by status", async () => {
    const active = await makeConsumer();
    const disabled = await makeConsumer();
    await setConsumerStatus(disabled.id, "disabled");
    const ids = (await list("status=disabled&limit=100")).consumers.map((c) => c.id);
    expect(ids).toContain(disabled.id);
    expect(ids).not.toContain(active.id);
    expect((await list("status=disabled&limit=100")).consumers.every((c) => c.status === "disabled")).toBe(true);
  });

  it("finds one consumer by exact id, '.' and '..' included (owners from before consumers)", async () => {
    const consumer = await makeConsumer();
    expect((await list(`id=${consumer.id}`)).consumers.map((c) => c.id)).toEqual([consumer.id]);
    // A prefix is no match.
    expect((await list(`id=${consumer.id.slice(0, 4)}`)).consumers).toEqual([]);
    // Owners named "." and ".." get a consumer with their first key; no path can name them, this query can.
    await mintKey({ owner_id: "." });
    await mintKey({ owner_id: ".." });
    expect((await list("id=.")).consumers.map((c) => c.id)).toEqual(["."]);
    expect((await list("id=..")).consumers.map((c) => c.id)).toEqual([".."]);
  });

  it("answers an empty page, with no cursor, when nothing matches", async () => {
    expect(await list(`id=${newConsumerId("nobody")}`)).toEqual({ consumers: [], next_cursor: null });
  });
});

describe("errors", () => {
  it.each([
    "limit=101",
    "limit=0",
    "limit=abc",
    "status=revoked",
    "id=a%20b",
    "id=",
    "owner_id=x",
    "sort=created_at",
    "cursor=not-a-cursor",
    `cursor=${btoa("1:x'; DROP TABLE consumers;--")}`,
    `cursor=${btoa("x:a")}`,
  ])("refuses %s with 400 and a field-by-field problem", async (query) => {
    const res = await admin(`/consumers?${query}`, { method: "GET" });
    await expectRefusal(res, 400, "invalid_request");
    expect(((await res.json()) as { errors: unknown[] }).errors.length).toBeGreaterThan(0);
  });

  it.each(["status=active&status=deleted", "id=a&id=b", "limit=1&limit=100", "cursor=a&cursor=b"])(
    "refuses the parameter given twice (%s) with 400: which copy counts would depend on the reader",
    async (query) => {
      const res = await admin(`/consumers?${query}`, { method: "GET" });
      await expectRefusal(res, 400, "invalid_request");
      expect(await res.json()).toMatchObject({ errors: [{ message: "given more than once" }] });
    },
  );
});

describe("security", () => {
  itRefusesWrongCredentials(async () => ({ method: "GET", path: "/consumers" }));

  it("an id shaped like SQL is a 400, never read as SQL, and the table is intact", async () => {
    const res = await admin(`/consumers?id=${encodeURIComponent("x' OR '1'='1")}`, { method: "GET" });
    await expectRefusal(res, 400, "invalid_request");
    const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM consumers").first<{ n: number }>();
    expect(row!.n).toBeGreaterThan(0);
  });
});
