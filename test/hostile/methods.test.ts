/**
 * Methods: override headers and parameters never change what is authorized or which admin operation runs,
 * and a method a route does not serve is 405 with an Allow header, at the gateway and on the admin API.
 */
import { describe, expect, it } from "vitest";
import { admin, call, gateway, mintKey, originSaw } from "../helpers";
import { d1Snapshot } from "../faults/wrappers";
import { expectRefusal } from "./expect";

const OVERRIDES = ["X-HTTP-Method-Override", "X-Method-Override", "X-HTTP-Method"];

describe("gateway", () => {
  it.each(OVERRIDES)("%s cannot turn a GET into a write for a key limited to GET routes", async (name) => {
    const { apiKey } = await mintKey({ scopes: ["read", "write"], allowed_routes: ["GET /api/v1/*"] });
    const { response, trace } = gateway("/api/v1/orders", apiKey, { method: "POST", headers: { [name]: "GET" } });
    await expectRefusal(await response, 403, "route_not_allowed", [apiKey]);
    expect(await originSaw(trace)).toBe(false);
  });

  it("a _method query parameter is not an override either, and reaches the origin as an ordinary parameter", async () => {
    const { apiKey } = await mintKey({ scopes: ["read"] });
    const { response, trace } = gateway("/api/v1/orders?_method=DELETE", apiKey);
    const res = await response;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { method: string }).method).toBe("GET");
    expect(await originSaw(trace)).toBe(true);
  });

  // workerd normalises the case of standard methods ("patch" is PATCH) and refuses some outright (LINK).
  it.each(["SEARCH", "QUERY", "PURGE", "REPORT"])(
    "the method %j is 405 with Allow, before any key is read",
    async (method) => {
      const { response, trace } = gateway("/api/v1/x", "not-even-a-key", { method });
      const res = await response;
      await expectRefusal(res, 405, "method_not_allowed");
      expect(res.headers.get("Allow")).toBe("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
      expect(await originSaw(trace)).toBe(false);
    },
  );
});

describe("admin API", () => {
  it.each<[string, string, string]>([
    ["DELETE", "/keys/{id}", "GET, PATCH, HEAD"],
    ["PUT", "/keys/{id}", "GET, PATCH, HEAD"],
    ["POST", "/keys/{id}", "GET, PATCH, HEAD"],
    ["DELETE", "/keys", "POST, GET, HEAD"],
    ["PUT", "/keys", "POST, GET, HEAD"],
    ["GET", "/keys/{id}/revoke", "POST"],
    ["DELETE", "/keys/{id}/revoke", "POST"],
    ["GET", "/keys/{id}/rotate", "POST"],
    ["POST", "/audit", "GET, HEAD"],
    ["POST", "/openapi.json", "GET, HEAD"],
  ])("%s %s is 405 with Allow: %s, and changes nothing", async (method, path, allow) => {
    const { id } = await mintKey();
    const before = await d1Snapshot();
    const res = await admin(path.replace("{id}", id), { method });
    await expectRefusal(res, 405, "method_not_allowed");
    expect(res.headers.get("Allow")).toBe(allow);
    expect(await d1Snapshot()).toBe(before);
  });

  it("a 405 is still behind the admin credential: without it, 401", async () => {
    const { id } = await mintKey();
    const res = await call(`/admin/v1/keys/${id}`, { method: "DELETE" });
    await expectRefusal(res, 401, "admin_unauthorized");
  });

  it.each(OVERRIDES)("%s on a POST does not make it a PATCH (405), nor a read into a revocation", async (name) => {
    const { id } = await mintKey();
    const before = await d1Snapshot();
    const asPatch = await admin(`/keys/${id}`, {
      method: "POST",
      headers: { [name]: "PATCH" },
      json: { name: "changed" },
    });
    await expectRefusal(asPatch, 405, "method_not_allowed");
    const asRevoke = await admin(`/keys/${id}/revoke`, { method: "GET", headers: { [name]: "POST" } });
    await expectRefusal(asRevoke, 405, "method_not_allowed");
    const asRevokeParam = await admin(`/keys/${id}/revoke?_method=POST`, { method: "GET" });
    await expectRefusal(asRevokeParam, 405, "method_not_allowed");
    expect(await d1Snapshot()).toBe(before);
  });
});
