/**
 * The allow / deny matrix of scoped credentials: for every route of the operation table, a credential holding
 * only the permission the route declares gets past the permission check, and one holding every other
 * permission is refused 403 `forbidden_operation` with nothing changed. And a credential limited to some
 * consumers: routes spanning every consumer are 403, another consumer's key or consumer is 404.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { OPERATIONS } from "../../src/admin/operations";
import { ADMIN_PERMISSIONS } from "../../src/operations/permissions";
import { d1Snapshot } from "../faults/wrappers";
import { admin, mintKey, problemOf } from "../helpers";
import { mintCredential, withCredential } from "./credential-helpers";

/** A path of the route with real ids: a key of `owner`, that owner as the consumer, a credential. */
async function concretePath(path: string, owner = `o-${crypto.randomUUID().slice(0, 8)}`) {
  if (!path.includes("{id}")) return path;
  if (path.startsWith("/consumers/")) {
    await mintKey({ owner_id: owner });
    return path.replace("{id}", owner);
  }
  if (path.startsWith("/credentials/"))
    return path.replace("{id}", (await mintCredential({ operations: ["keys:read"] })).id);
  return path.replace("{id}", (await mintKey({ owner_id: owner })).id);
}

/** A minimal call: GET bare, PATCH with a valid change (an empty one is a 400 before any lookup), else `{}`. */
const bodyFor = (method: string) => (method === "PATCH" ? { name: "renamed" } : {});
const callRoute = (secret: string, method: string, path: string) =>
  withCredential(secret, path, method === "GET" ? { method } : { method, json: bodyFor(method) });

const routes = OPERATIONS.map((op) => [`${op.method} ${op.path}`, op] as const);

describe("each route's permission", () => {
  it.each(routes)("%s: its permission alone passes, every other permission is 403", async (_name, op) => {
    const path = await concretePath(op.path);
    const others = ADMIN_PERMISSIONS.filter((p) => p !== op.permission);
    const denied = await mintCredential({ operations: [...others] });
    const before = await d1Snapshot();
    const refused = await callRoute(denied.secret, op.method, path);
    expect(refused.status).toBe(403);
    expect((await problemOf(refused)).code).toBe("forbidden_operation");
    expect(await d1Snapshot()).toEqual(before);

    const allowed = await mintCredential({ operations: [op.permission] });
    const res = await callRoute(allowed.secret, op.method, path);
    expect([401, 403], `${op.method} ${op.path}: ${res.status}`).not.toContain(res.status);
  });

  it("lets the admin token through every route", async () => {
    for (const op of OPERATIONS) {
      const path = await concretePath(op.path);
      const res = await admin(
        path,
        op.method === "GET" ? { method: op.method } : { method: op.method, json: bodyFor(op.method) },
      );
      expect([401, 403], `${op.method} ${op.path}`).not.toContain(res.status);
    }
  });
});

describe("a credential limited to some consumers", () => {
  const scoped = OPERATIONS.filter((op) => op.consumerScoped);
  const global = OPERATIONS.filter((op) => !op.consumerScoped);

  it.each(global.map((op) => [`${op.method} ${op.path}`, op] as const))(
    "%s spans every consumer: 403 even with the permission",
    async (_name, op) => {
      const cred = await mintCredential({ operations: [...ADMIN_PERMISSIONS], consumers: ["mine"] });
      const res = await callRoute(cred.secret, op.method, await concretePath(op.path));
      expect(res.status).toBe(403);
      expect((await problemOf(res)).code).toBe("forbidden_operation");
    },
  );

  it.each(
    scoped
      .filter((op) => op.path.includes("{id}") && !op.path.startsWith("/credentials"))
      .map((op) => [`${op.method} ${op.path}`, op] as const),
  )("%s on another consumer's key or consumer is 404, and changes nothing", async (_name, op) => {
    const cred = await mintCredential({ operations: [...ADMIN_PERMISSIONS], consumers: ["mine"] });
    const path = await concretePath(op.path, "theirs");
    const before = await d1Snapshot();
    const res = await callRoute(cred.secret, op.method, path);
    expect(res.status).toBe(404);
    expect(["key_not_found", "consumer_not_found"]).toContain((await problemOf(res)).code);
    expect(await d1Snapshot()).toEqual(before);
  });

  it("lists only its consumers' keys and consumers, and creates keys only for them", async () => {
    const mine = await mintKey({ owner_id: "mine" });
    const theirs = await mintKey({ owner_id: "theirs" });
    const cred = await mintCredential({
      operations: ["keys:read", "keys:create", "consumers:read"],
      consumers: ["mine"],
    });
    const keys = (await (await withCredential(cred.secret, "/keys?limit=100")).json()) as { keys: { id: string }[] };
    const ids = keys.keys.map((k) => k.id);
    expect(ids).toContain(mine.id);
    expect(ids).not.toContain(theirs.id);
    const consumers = (await (await withCredential(cred.secret, "/consumers?limit=100")).json()) as {
      consumers: { id: string }[];
    };
    expect(consumers.consumers.map((c) => c.id)).toEqual(["mine"]);
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys").first<{ n: number }>();
    const refused = await withCredential(cred.secret, "/keys", { json: { owner_id: "theirs" } });
    expect(refused.status).toBe(404);
    expect((await problemOf(refused)).code).toBe("consumer_not_found");
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys").first<{ n: number }>()).toEqual(before);
    expect((await withCredential(cred.secret, "/keys", { json: { owner_id: "mine" } })).status).toBe(201);
  });
});
