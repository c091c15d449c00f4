/**
 * The portal actor on the operations themselves: its grant holds its one consumer, so the operations' own
 * consumer scoping keeps it to its keys; it sets no rate limits or metadata; it reads only its own trail.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { ProblemError } from "../../src/http/problem";
import { actorName, consumerScope, grantOf, mayActOn, type PortalActor } from "../../src/operations/actor";
import type { OperationContext } from "../../src/operations/context";
import { createKey } from "../../src/operations/create-key";
import { getKey } from "../../src/operations/get-key";
import { listAudit } from "../../src/operations/list-audit";
import { listKeys } from "../../src/operations/list-keys";
import { createKeySchema } from "../../src/operations/schemas";
import { getConsumerUsage } from "../../src/operations/usage";
import { makeConsumer } from "../admin/consumer-helpers";
import { mintKey } from "../helpers";

const portal = (consumerId: string): OperationContext<PortalActor> => ({
  env,
  requestId: crypto.randomUUID(),
  waitUntil: () => {},
  actor: { kind: "portal", consumerId, linkId: "pl_test" },
});

const config = () => {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error("config");
  return loaded.config;
};

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProblemError) return error.code;
    throw error;
  }
  return "none";
}

describe("the portal actor", () => {
  it("is named portal:<consumer id> and may act on that consumer only, without consumers:write", () => {
    const actor: PortalActor = { kind: "portal", consumerId: "acme", linkId: "pl_x" };
    expect(actorName(actor)).toBe("portal:acme");
    expect(mayActOn(actor, "acme")).toBe(true);
    expect(mayActOn(actor, "acme2")).toBe(false);
    expect(consumerScope(actor)).toEqual(["acme"]);
    expect(grantOf(actor).permissions).not.toContain("consumers:write");
    expect(grantOf(actor).permissions).not.toContain("credentials:write");
  });

  it("finds and lists only its consumer's keys, and reads only its consumer's usage", async () => {
    const [mine, theirs] = [await makeConsumer(), await makeConsumer()];
    const own = await mintKey({ owner_id: mine.id });
    const foreign = await mintKey({ owner_id: theirs.id });
    expect((await getKey(portal(mine.id), own.id)).id).toBe(own.id);
    expect(await codeOf(getKey(portal(mine.id), foreign.id))).toBe("key_not_found");
    const listed = await listKeys(portal(mine.id), { limit: 100 });
    expect(listed.keys.map((k) => k.id)).toEqual([own.id]);
    expect(await codeOf(getConsumerUsage(portal(mine.id), theirs.id, { granularity: "day" }))).toBe(
      "consumer_not_found",
    );
  });

  it("may not set rate limits or metadata, nor mint for another consumer", async () => {
    const [mine, theirs] = [await makeConsumer(), await makeConsumer()];
    const input = (body: Record<string, unknown>) => createKeySchema.parse({ owner_id: mine.id, ...body });
    expect(
      await codeOf(
        createKey(portal(mine.id), input({ rate_limits: [{ name: "h", limit: 1e6, window_seconds: 3600 }] }), config()),
      ),
    ).toBe("invalid_request");
    expect(await codeOf(createKey(portal(mine.id), input({ metadata: { tier: "gold" } }), config()))).toBe(
      "invalid_request",
    );
    expect(await codeOf(createKey(portal(mine.id), input({ owner_id: theirs.id }), config()))).toBe(
      "consumer_not_found",
    );
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE owner_id IN (?, ?)")
      .bind(mine.id, theirs.id)
      .first<{ n: number }>();
    expect(count!.n).toBe(0);
  });

  it("reads the audit log of its own consumer only", async () => {
    const [mine, theirs] = [await makeConsumer(), await makeConsumer()];
    expect(await codeOf(listAudit(portal(mine.id), { limit: 10 }))).toBe("consumer_not_found");
    expect(await codeOf(listAudit(portal(mine.id), { consumer_id: theirs.id, limit: 10 }))).toBe("consumer_not_found");
    const own = await listAudit(portal(mine.id), { consumer_id: mine.id, limit: 10 });
    expect(own.entries.length).toBeGreaterThan(0);
    expect(own.entries.every((e) => e.consumer_id === mine.id)).toBe(true);
  });
});
