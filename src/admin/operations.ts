/**
 * Every admin operation, listed once: method, path, handler and the schemas it validates with. The router
 * mounts this table, and the OpenAPI 3.1 document is generated from it, so the two cannot drift apart.
 */
import * as z from "zod";
import { PROBLEMS, type ProblemCode } from "../http/problem";
import { KEY_ID_PATTERN } from "../keys/key-record";
import type { AdminContext } from "./context";
import { createKey } from "./create-key";
import { getKey } from "./get-key";
import { listAudit } from "./list-audit";
import { listKeys } from "./list-keys";
import { revokeKey } from "./revoke-key";
import { rotateKey } from "./rotate-key";
import {
  alertsQuery,
  createKeySchema,
  emptyBodySchema,
  listAuditQuery,
  listKeysQuery,
  reportQuery,
  revokeKeySchema,
  rotateKeySchema,
  updateKeySchema,
  usageQuery,
} from "./schemas";
import { disableKey, enableKey } from "./set-status";
import { updateKey } from "./update-key";
import { ingestGitleaks } from "./ingest-gitleaks";
import { ingestScannerReport } from "./ingest-scanner";
import { ingestTrufflehog } from "./ingest-trufflehog";
import { gitleaksReportSchema, scannerReportSchema } from "../leaks/schemas";
import { getKeyUsage } from "./get-key-usage";
import { getReport } from "./get-report";
import { getUsage } from "./get-usage";
import { listAlerts } from "./list-alerts";

export interface Operation {
  method: "GET" | "POST" | "PATCH";
  /** OpenAPI form: "/keys/{id}". */
  path: string;
  summary: string;
  handler: (c: AdminContext) => Promise<Response>;
  body?: z.ZodType;
  query?: z.ZodObject;
  /** The success status and what it answers. */
  success: { status: 200 | 201; description: string };
  /** Refusals beyond the ones every admin route can answer (401, 413, 415, 503). */
  errors: ProblemCode[];
}

const KEY_ERRORS: ProblemCode[] = ["key_not_found", "invalid_request"];

export const OPERATIONS: readonly Operation[] = [
  { method: "POST", path: "/keys", summary: "Mint a key (the secret is in this response only)", handler: createKey, body: createKeySchema, success: { status: 201, description: "{ api_key, key }" }, errors: ["invalid_request"] },
  { method: "GET", path: "/keys", summary: "List keys, newest first", handler: listKeys, query: listKeysQuery, success: { status: 200, description: "{ keys, next_cursor }" }, errors: ["invalid_request"] },
  { method: "GET", path: "/keys/{id}", summary: "Get a key", handler: getKey, success: { status: 200, description: "the key object" }, errors: ["key_not_found"] },
  { method: "PATCH", path: "/keys/{id}", summary: "Change a key's settings", handler: updateKey, body: updateKeySchema, success: { status: 200, description: "the key object" }, errors: [...KEY_ERRORS, "key_state_conflict"] },
  { method: "POST", path: "/keys/{id}/revoke", summary: "Revoke a key, everywhere, for good", handler: revokeKey, body: revokeKeySchema, success: { status: 200, description: "the key object" }, errors: KEY_ERRORS },
  { method: "POST", path: "/keys/{id}/disable", summary: "Disable a key until it is enabled", handler: disableKey, body: emptyBodySchema, success: { status: 200, description: "the key object" }, errors: [...KEY_ERRORS, "key_state_conflict"] },
  { method: "POST", path: "/keys/{id}/enable", summary: "Enable a disabled key", handler: enableKey, body: emptyBodySchema, success: { status: 200, description: "the key object" }, errors: [...KEY_ERRORS, "key_state_conflict"] },
  { method: "POST", path: "/keys/{id}/rotate", summary: "Mint a successor; the key works until its grace end", handler: rotateKey, body: rotateKeySchema, success: { status: 201, description: "{ api_key, key, previous: { id, grace_until } }" }, errors: [...KEY_ERRORS, "key_state_conflict"] },
  { method: "POST", path: "/leaks/gitleaks", summary: "Ingest a gitleaks JSON report: the live keys in it are revoked", handler: ingestGitleaks, body: gitleaksReportSchema, success: { status: 200, description: "{ results: [{ index, status, key_id, duplicate }], counts }" }, errors: ["invalid_request", "rate_limited"] },
  { method: "POST", path: "/leaks/trufflehog", summary: "Ingest truffleHog's JSON lines (application/x-ndjson): the live keys in it are revoked", handler: ingestTrufflehog, success: { status: 200, description: "{ results: [{ index, status, key_id, duplicate }], counts }" }, errors: ["invalid_request", "rate_limited"] },
  { method: "POST", path: "/leaks/scanner", summary: "Record the built-in scanner's findings (hashes and locations); revoke them with revoke: true", handler: ingestScannerReport, body: scannerReportSchema, success: { status: 200, description: "{ results: [{ index, status, key_id, duplicate }], counts }" }, errors: ["invalid_request", "rate_limited"] },
  { method: "GET", path: "/audit", summary: "The audit log, newest first", handler: listAudit, query: listAuditQuery, success: { status: 200, description: "{ entries, next_cursor }" }, errors: ["invalid_request"] },
  // Monitoring.
  { method: "GET", path: "/keys/{id}/usage", summary: "A key's decisions per UTC day and outcome", handler: getKeyUsage, query: usageQuery, success: { status: 200, description: "{ key_id, from, to, total, outcomes, days }" }, errors: KEY_ERRORS },
  { method: "GET", path: "/usage", summary: "All decisions per UTC day and outcome, unknown keys included", handler: getUsage, query: usageQuery, success: { status: 200, description: "{ from, to, total, outcomes, days }" }, errors: ["invalid_request"] },
  { method: "GET", path: "/alerts", summary: "Anomaly alerts, newest first", handler: listAlerts, query: alertsQuery, success: { status: 200, description: "{ alerts, next_cursor }" }, errors: ["invalid_request"] },
  { method: "GET", path: "/report", summary: "The API Key Security Implementation Report (Markdown, or ?format=json)", handler: getReport, query: reportQuery, success: { status: 200, description: "text/markdown, or the same data as JSON with active_keys" }, errors: ["invalid_request"] },
];

const COMMON_ERRORS: ProblemCode[] = ["admin_unauthorized", "key_in_query", "payload_too_large", "unsupported_media_type", "authorizer_unavailable"];

const problemSchema = {
  type: "object",
  required: ["type", "title", "status", "code", "request_id"],
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    code: { type: "string" },
    request_id: { type: "string" },
    errors: { type: "array", items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } } },
  },
};

const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });

function errorResponses(codes: ProblemCode[]) {
  const byStatus = new Map<number, ProblemCode[]>();
  for (const code of [...codes, ...COMMON_ERRORS]) {
    const status = PROBLEMS[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      String(status),
      { description: list.join(", "), content: { "application/problem+json": { schema: problemSchema } } },
    ]),
  );
}

/** The OpenAPI 3.1 document of the admin API, generated from OPERATIONS. */
export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const parameters = [
      ...(op.path.includes("{id}") ? [{ name: "id", in: "path", required: true, schema: { type: "string", pattern: KEY_ID_PATTERN.source } }] : []),
      ...Object.entries(op.query?.shape ?? {}).map(([name, schema]) => ({
        name,
        in: "query",
        required: false,
        schema: jsonSchema(schema as z.ZodType),
      })),
    ];
    paths[op.path] ??= {};
    paths[op.path]![op.method.toLowerCase()] = {
      summary: op.summary,
      security: [{ adminToken: [] }],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(op.body ? { requestBody: { required: op.method !== "POST" || op.body === createKeySchema, content: { "application/json": { schema: jsonSchema(op.body) } } } } : {}),
      responses: {
        [String(op.success.status)]: { description: op.success.description, content: { "application/json": { schema: { type: "object" } } } },
        ...errorResponses(op.errors),
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "edge-key-authorizer admin API", version: "1" },
    servers: [{ url: "/admin/v1" }],
    components: { securitySchemes: { adminToken: { type: "http", scheme: "bearer" } } },
    paths,
  };
}
