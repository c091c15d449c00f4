/**
 * GET /admin/v1/openapi.json (src/admin/operations.ts): generated from the operation table, request and
 * result schemas included. test/cli/openapi-client.test.mjs compiles a client against it.
 */
import { describe, expect, it } from "vitest";
import { MAX_USAGE_HOURS } from "../../src/monitoring/usage-store";
import { admin, mintKey } from "../helpers";
import { itRefusesWrongCredentials } from "./helpers";

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: Schema;
};
interface OpenApiOperation {
  requestBody?: { content: { "application/json": { schema: Schema } } };
  parameters?: { name: string }[];
  responses: Record<string, { content: Record<string, { schema: Schema }> }>;
}
/** The parts of the document these tests read (it is OpenAPI 3.1, not an answer of an operation). */
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
}

const served = async () => (await (await admin("/openapi.json", { method: "GET" })).json()) as OpenApiDocument;

describe("happy path", () => {
  it("documents exactly the routes that are served", async () => {
    const doc = await served();
    expect(doc.openapi).toBe("3.1.0");
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(
      [
        "POST /keys",
        "GET /keys",
        "GET /keys/{id}",
        "PATCH /keys/{id}",
        "POST /keys/{id}/revoke",
        "POST /keys/{id}/disable",
        "POST /keys/{id}/enable",
        "POST /keys/{id}/rotate",
        "POST /keys/{id}/start-grace",
        "GET /audit",
        // The key check and the limits views (src/admin/check-key.ts, get-limits.ts).
        "POST /keys/check",
        "GET /keys/{id}/limits",
        "GET /consumers/{id}/limits",
        // Consumers (src/admin/*-consumer*.ts).
        "POST /consumers",
        "GET /consumers",
        "GET /consumers/{id}",
        "PATCH /consumers/{id}",
        "DELETE /consumers/{id}",
        "GET /consumers/{id}/keys",
        // Consumer-wide operations (src/admin/set-consumer-status.ts, revoke-consumer-keys.ts).
        "POST /consumers/{id}/disable",
        "POST /consumers/{id}/enable",
        "POST /consumers/{id}/revoke-keys",
        // The consumer portal's links (src/admin/create-portal-session.ts).
        "POST /portal/sessions",
        // Leak events (src/admin/list-leak-events.ts) and leak ingest (src/admin/ingest-*.ts).
        "GET /leaks",
        "POST /leaks/gitleaks",
        "POST /leaks/trufflehog",
        "POST /leaks/scanner",
        // Monitoring (src/admin/get-usage.ts, get-consumer-usage.ts, list-alerts.ts, get-report.ts).
        "GET /keys/{id}/usage",
        "GET /consumers/{id}/usage",
        "GET /usage",
        "GET /alerts",
        "GET /report",
        // Scoped admin credentials (src/admin/*-credential*.ts).
        "POST /credentials",
        "GET /credentials",
        "GET /credentials/{id}",
        "POST /credentials/{id}/revoke",
      ].sort(),
    );
    const { id, key } = await mintKey();
    const credential = (await (
      await admin("/credentials", {
        method: "POST",
        json: { name: "probe", operations: ["keys:read"], expires_in_days: 1 },
      })
    ).json()) as { details: { id: string } };
    const idFor = (path: string) =>
      path.startsWith("/consumers/") ? key.owner_id : path.startsWith("/credentials/") ? credential.details.id : id;
    for (const op of documented) {
      const [method, path] = op.split(" ") as [string, string];
      // Each documented operation is served: an empty or minimal call is answered by its handler, never 404/405.
      const target = path.replace("{id}", idFor(path));
      const res = await admin(target, method === "GET" ? { method } : { method, json: {} });
      expect([404, 405], op).not.toContain(res.status);
    }
    // The request body schema is the one the route validates with: fields and their constraints.
    const schema = doc.paths["/keys"]!.post!.requestBody!.content["application/json"].schema;
    expect(Object.keys(schema.properties!).sort()).toEqual(
      [
        "allowed_origins",
        "allowed_routes",
        "environment",
        "expires_in_days",
        "expires_in_seconds",
        "ip_allowlist",
        "metadata",
        "name",
        "owner_id",
        "rate_limits",
        "scopes",
        "secret_store",
        "type",
      ].sort(),
    );
    expect(schema.properties!.secret_store).toMatchObject({ enum: ["vault", "aws-secrets-manager"] });
    expect(schema.required).toEqual(["owner_id"]);
    expect(schema.additionalProperties).toBe(false);
    expect(doc.paths["/keys"]!.get!.parameters!.map((p) => p.name)).toEqual([
      "owner_id",
      "status",
      "environment",
      "q",
      "limit",
      "cursor",
    ]);
  });

  it("documents each success answer with the operation's result schema", async () => {
    const doc = await served();
    const created = doc.paths["/keys"]!.post!.responses["201"]!.content["application/json"]!.schema;
    expect(created.required).toEqual(["api_key", "key"]);
    expect(created.properties!.key!.properties!.id).toEqual({ type: "string" });
    expect(created.properties!.key!.properties).not.toHaveProperty("key_hash");
    const page = doc.paths["/keys"]!.get!.responses["200"]!.content["application/json"]!.schema;
    expect(Object.keys(page.properties!)).toEqual(["keys", "next_cursor"]);
    expect(page.properties!.keys!.items!.additionalProperties).toBe(false);
    const report = doc.paths["/report"]!.get!.responses["200"]!.content;
    expect(Object.keys(report).sort()).toEqual(["application/json", "text/markdown"]);
    // A path's {id} is a key id, or under /consumers a consumer id.
    const idOf = (path: string) =>
      (doc.paths[path]!.get!.parameters as { name: string; schema: { pattern: string } }[]).find(
        (p) => p.name === "id",
      )!.schema.pattern;
    expect(idOf("/keys/{id}/usage")).toMatch(/^\^key_/);
    expect(new RegExp(idOf("/consumers/{id}/usage")).test("team-a@example.com")).toBe(true);
    expect(new RegExp(idOf("/consumers/{id}/usage")).test("..")).toBe(false);
  });

  it("documents per-hour usage on the three usage routes, each answer shape, and the search on the key lists", async () => {
    const doc = await served();
    type Parameter = { name: string; schema: { enum?: string[]; maximum?: number; default?: unknown } };
    for (const path of ["/usage", "/keys/{id}/usage", "/consumers/{id}/usage"]) {
      const parameters = doc.paths[path]!.get!.parameters as unknown as Parameter[];
      const byName = new Map(parameters.map((p) => [p.name, p.schema]));
      expect(byName.get("granularity"), path).toMatchObject({ enum: ["day", "hour"], default: "day" });
      expect(byName.get("hours")!.maximum, path).toBe(MAX_USAGE_HOURS);
      const answer = doc.paths[path]!.get!.responses["200"]!.content["application/json"]!.schema as {
        anyOf: Schema[];
      };
      const shapes = answer.anyOf.map((shape) =>
        Object.keys(shape.properties!).filter((k) => k === "days" || k === "hours"),
      );
      // Per day, per hour (and on /usage the page of consumers, per day, with neither at its top).
      expect(shapes.flat(), path).toEqual(["days", "hours"]);
      for (const shape of answer.anyOf) expect(shape.required, path).toContain("granularity");
    }
    for (const path of ["/keys", "/consumers/{id}/keys"]) {
      const parameters = doc.paths[path]!.get!.parameters as unknown as { name: string }[];
      expect(
        parameters.map((p) => p.name),
        path,
      ).toContain("q");
    }
  });

  it("documents the consumer routes: their own id grammar, strict bodies, the consumer as the answer", async () => {
    const doc = await served();
    const parameters = doc.paths["/consumers/{id}"]!.get!.parameters as unknown as { schema: { pattern: string } }[];
    const pattern = new RegExp(parameters[0]!.schema.pattern);
    expect(["acme", "...", "user@example.com"].map((id) => pattern.test(id))).toEqual([true, true, true]);
    expect([".", "..", "a/b"].map((id) => pattern.test(id))).toEqual([false, false, false]);
    const keyParameters = doc.paths["/keys/{id}"]!.get!.parameters as unknown as { schema: { pattern: string } }[];
    expect(new RegExp(keyParameters[0]!.schema.pattern).test("acme")).toBe(false);

    const body = doc.paths["/consumers"]!.post!.requestBody!.content["application/json"].schema;
    expect(body.required).toEqual(["id"]);
    expect(body.additionalProperties).toBe(false);
    expect(body.properties!.key_policy!.additionalProperties).toBe(false);
    expect(Object.keys(body.properties!.key_policy!.properties!).sort()).toEqual(
      [
        "allowed_environments",
        "allowed_scopes",
        "allowed_types",
        "default_rate_limits",
        "max_active_keys",
        "max_grace_hours",
        "max_lifetime_days",
      ].sort(),
    );
    const answer = doc.paths["/consumers/{id}"]!.patch!.responses["200"]!.content["application/json"]!.schema;
    expect(answer.additionalProperties).toBe(false);
    expect(Object.keys(answer.properties!)).toContain("key_policy");
    expect(Object.keys(doc.paths["/consumers/{id}"]!.delete!.responses)).toContain("409");
  });
});

describe("errors", () => {
  it("is served to GET and HEAD only (405 with Allow)", async () => {
    const res = await admin("/openapi.json", { method: "POST", json: {} });
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toBe("GET, HEAD");
  });
});

describe("security", () => {
  itRefusesWrongCredentials(async () => ({ method: "GET", path: "/openapi.json" }));
});
