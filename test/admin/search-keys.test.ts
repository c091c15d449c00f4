/**
 * GET /admin/v1/keys?q= (src/operations/list-keys.ts, findKeysPage in src/keys/store.ts): keys found by their
 * id, their hint or a part of their name, with the list's filters and cursors.
 */
import { describe, expect, it } from "vitest";
import type { ListKeysResult } from "../../src/operations/list-keys";
import { testClock } from "../clock";
import { admin, call, type MintedKey, mintKey, problemOf } from "../helpers";
import { itRefusesWrongCredentials } from "./helpers";

/** A fresh owner per test: the file's other keys stay out of its lists. */
const newOwner = () => `search-${crypto.randomUUID().slice(0, 8)}`;

/** Keys of one owner with these names, one clock millisecond apart (so newest first is the reverse order). */
async function named(owner: string, names: string[], extra: Record<string, unknown> = {}): Promise<MintedKey[]> {
  const keys = [];
  for (const name of names) {
    testClock.advance(1);
    keys.push(await mintKey({ owner_id: owner, name, ...extra }));
  }
  return keys;
}

async function search(query: string): Promise<ListKeysResult> {
  const res = await admin(`/keys?${query}`, { method: "GET" });
  expect(res.status, query).toBe(200);
  return (await res.json()) as ListKeysResult;
}

/** The names of the keys a search finds, newest first. */
const namesFound = async (query: string) => (await search(query)).keys.map((k) => k.name);
const q = (text: string) => `q=${encodeURIComponent(text)}`;

describe("happy path", () => {
  it("finds a name by any part of it, in any case, newest first", async () => {
    const owner = newOwner();
    await named(owner, ["CI deploys", "nightly backup", "Deploy bot", "deplo"]);
    expect(await namesFound(`owner_id=${owner}&${q("deploy")}`)).toEqual(["Deploy bot", "CI deploys"]);
    expect(await namesFound(`owner_id=${owner}&${q("DEPLOY")}`)).toEqual(["Deploy bot", "CI deploys"]);
    expect(await namesFound(`owner_id=${owner}&${q("ly b")}`)).toEqual(["nightly backup"]);
    expect(await namesFound(`owner_id=${owner}&${q("deploys bot")}`)).toEqual([]);
  });

  it("finds a key by its exact id and by its hint, and by neither when only part of it is given", async () => {
    const owner = newOwner();
    const [first, second] = await named(owner, ["first", "second"]);
    expect(await namesFound(q(first!.id))).toEqual(["first"]);
    expect(await namesFound(q(first!.id.slice(0, -1)))).toEqual([]);
    expect(await namesFound(q(first!.id.toLowerCase()))).toEqual([]);
    const hint = second!.key.hint;
    expect(hint).toBe(second!.apiKey.slice(-4));
    expect(await namesFound(`owner_id=${owner}&${q(hint)}`)).toEqual(["second"]);
    expect(await namesFound(`owner_id=${owner}&${q(hint.slice(1))}`)).toEqual([]);
    // A hint is case-sensitive: another key's last four characters, not this one's.
    const flipped = [...hint].map((ch) => (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase())).join("");
    if (flipped !== hint) expect(await namesFound(`owner_id=${owner}&${q(flipped)}`)).toEqual([]);
  });

  it("matches % and _ literally, and a backslash too", async () => {
    const owner = newOwner();
    await named(owner, ["100% off", "100 off", "a_b", "axb", "back\\slash", "backslash"]);
    const find = (text: string) => namesFound(`owner_id=${owner}&${q(text)}`);
    expect(await find("%")).toEqual(["100% off"]);
    expect(await find("0%")).toEqual(["100% off"]);
    expect(await find("_")).toEqual(["a_b"]);
    expect(await find("a_b")).toEqual(["a_b"]);
    expect(await find("\\")).toEqual(["back\\slash"]);
    expect(await find("k\\s")).toEqual(["back\\slash"]);
    expect(await find("%%")).toEqual([]);
  });

  it("combines with the owner, status and environment filters", async () => {
    const [one, other] = [newOwner(), newOwner()];
    const [live, test, revoked] = [
      ...(await named(one, ["billing live"])),
      ...(await named(one, ["billing test"], { environment: "test" })),
      ...(await named(one, ["billing old"])),
    ];
    await named(other, ["billing elsewhere"]);
    expect((await admin(`/keys/${revoked!.id}/revoke`)).status).toBe(200);
    // Without an owner the search spans every owner's keys: narrowed to one, only that owner's.
    expect(await namesFound(`${q("billing")}&owner_id=${one}`)).toEqual([
      "billing old",
      "billing test",
      "billing live",
    ]);
    expect(await namesFound(`${q("billing")}&owner_id=${other}`)).toEqual(["billing elsewhere"]);
    expect(await namesFound(`${q("billing")}&owner_id=${one}&status=active`)).toEqual(["billing test", "billing live"]);
    expect(await namesFound(`${q("billing")}&owner_id=${one}&status=revoked`)).toEqual(["billing old"]);
    expect(await namesFound(`${q("billing")}&owner_id=${one}&environment=test`)).toEqual(["billing test"]);
    expect(await namesFound(`${q(live!.id)}&environment=test`)).toEqual([]);
    expect(await namesFound(`${q(test!.id)}&environment=test&status=active`)).toEqual(["billing test"]);
    // GET /consumers/{id}/keys takes the same search.
    const res = await admin(`/consumers/${one}/keys?${q("TEST")}`, { method: "GET" });
    expect(((await res.json()) as ListKeysResult).keys.map((k) => k.name)).toEqual(["billing test"]);
  });

  it("pages through a search with its cursor: every match once, in order, no other key", async () => {
    const owner = newOwner();
    const keys = await named(owner, ["match 1", "other 1", "match 2", "MATCH 3", "other 2", "match 4", "match 5"]);
    const expected = keys
      .filter((k) => k.key.name.toLowerCase().startsWith("match"))
      .map((k) => k.id)
      .reverse();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: ListKeysResult = await search(
        `owner_id=${owner}&${q("match")}&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(page.keys.length).toBeLessThanOrEqual(2);
      seen.push(...page.keys.map((k) => k.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(expected);
    expect(pages).toBe(3);
  });
});

describe("errors", () => {
  it.each([
    ["an empty q", "q="],
    ["a q over 200 characters", `q=${"x".repeat(201)}`],
    ["a control character", "q=a%0Ab"],
    ["q given twice", "q=a&q=b"],
  ])("refuses %s with 400 naming q", async (_label, query) => {
    const res = await admin(`/keys?${query}`, { method: "GET" });
    expect(res.status).toBe(400);
    const problem = (await problemOf(res)) as unknown as { code: string; errors: { path: string }[] };
    expect(problem.code).toBe("invalid_request");
    expect(problem.errors.map((e) => e.path)).toEqual(["q"]);
  });
});

describe("security", () => {
  itRefusesWrongCredentials(async () => ({ method: "GET", path: "/keys?q=deploy" }));

  it("refuses a whole key as the search (the URL is no place for it), and answers nothing of it", async () => {
    const { apiKey } = await mintKey({ owner_id: newOwner() });
    const res = await admin(`/keys?${q(apiKey)}`, { method: "GET" });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(JSON.parse(text).code).toBe("key_in_query");
    expect(text).not.toContain(apiKey);
  });

  it("searches only within a consumer-limited credential's consumers", async () => {
    const [mine, theirs] = [newOwner(), newOwner()];
    const [own] = await named(mine, ["shared name"]);
    const [other] = await named(theirs, ["shared name"]);
    const minted = await admin("/credentials", {
      json: { name: "search probe", operations: ["keys:read"], consumers: [mine], expires_in_days: 1 },
    });
    expect(minted.status).toBe(201);
    const { credential } = (await minted.json()) as { credential: string };
    const asCredential = async (query: string) => {
      const res = await call(`/admin/v1/keys?${query}`, { headers: { Authorization: `Bearer ${credential}` } });
      expect(res.status, query).toBe(200);
      return ((await res.json()) as ListKeysResult).keys.map((k) => k.id);
    };
    expect(await asCredential(q("shared name"))).toEqual([own!.id]);
    expect(await asCredential(q(other!.id))).toEqual([]);
    expect(await asCredential(q(other!.key.hint))).not.toContain(other!.id);
  });

  it("binds the search as a value: SQL in it finds nothing and changes nothing", async () => {
    const owner = newOwner();
    await named(owner, ["plain"]);
    for (const text of ["' OR '1'='1", "%' OR 1=1 --", "x') OR ('1'='1"]) {
      expect(await namesFound(`owner_id=${owner}&${q(text)}`)).toEqual([]);
    }
    expect(await namesFound(`owner_id=${owner}`)).toEqual(["plain"]);
  });
});
