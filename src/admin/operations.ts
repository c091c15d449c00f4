/**
 * Every admin operation, listed once: method, path, handler, the schemas it validates its request with and
 * the schema of its result. The router mounts this table and shapes each answer with the result schema, and
 * the OpenAPI 3.1 document is generated from it, so none of them can drift apart.
 */
import * as z from "zod";
import { PROBLEMS, type ProblemCode } from "../http/problem";
import { KEY_ID_PATTERN, keyViewSchema } from "../keys/key-record";
import { ingestSummarySchema } from "../leaks/ingest";
import { gitleaksReportSchema, scannerReportSchema } from "../leaks/schemas";
import { securityReportSchema } from "../monitoring/report-schema";
import { createKeyResult } from "../operations/create-key";
import { listAlertsResult } from "../operations/list-alerts";
import { listAuditResult } from "../operations/list-audit";
import { listKeysResult } from "../operations/list-keys";
import { rotateKeyResult } from "../operations/rotate-key";
import {
  alertsQuery,
  allUsageQuery,
  CONSUMER_ID_PATTERN,
  createKeySchema,
  emptyBodySchema,
  listAuditQuery,
  listKeysQuery,
  reportQuery,
  revokeKeySchema,
  rotateKeySchema,
  updateKeySchema,
  usageQuery,
} from "../operations/schemas";
import { allUsageResult, consumerUsageResult, keyUsageResult } from "../operations/usage";
import type { AdminContext } from "./context";
import { getConsumerUsageRoute } from "./get-consumer-usage";
import { createKeyRoute } from "./create-key";
import { getKeyRoute } from "./get-key";
import { getReportRoute } from "./get-report";
import { getKeyUsageRoute, getUsageRoute } from "./get-usage";
import { ingestGitleaksRoute } from "./ingest-gitleaks";
import { ingestScannerRoute } from "./ingest-scanner";
import { ingestTrufflehogRoute } from "./ingest-trufflehog";
import { listAlertsRoute } from "./list-alerts";
import { listAuditRoute } from "./list-audit";
import { listKeysRoute } from "./list-keys";
import { revokeKeyRoute } from "./revoke-key";
import { rotateKeyRoute } from "./rotate-key";
import { disableKeyRoute, enableKeyRoute } from "./set-key-status";
import { updateKeyRoute } from "./update-key";

export interface Operation {
  method: "GET" | "POST" | "PATCH";
  /** OpenAPI form: "/keys/{id}". */
  path: string;
  summary: string;
  /**
   * Reads the request, builds the actor and calls the operation. Its result is answered as JSON, shaped by
   * `success.result`; a handler that answers otherwise (the Markdown report) returns its Response.
   */
  handler: (c: AdminContext) => Promise<unknown>;
  body?: z.ZodType;
  query?: z.ZodObject;
  /** The success status, what it answers, and the schema of its JSON (the operation's result). */
  success: { status: 200 | 201; description: string; result: z.ZodType; markdown?: true };
  /** Refusals beyond the ones every admin route can answer (401, 413, 415, 503). */
  errors: ProblemCode[];
}

const KEY_ERRORS: ProblemCode[] = ["key_not_found", "invalid_request"];

export const OPERATIONS: readonly Operation[] = [
  {
    method: "POST",
    path: "/keys",
    summary: "Mint a key (the secret is in this response only)",
    handler: createKeyRoute,
    body: createKeySchema,
    success: { status: 201, description: "{ api_key, key }", result: createKeyResult },
    errors: ["invalid_request"],
  },
  {
    method: "GET",
    path: "/keys",
    summary: "List keys, newest first",
    handler: listKeysRoute,
    query: listKeysQuery,
    success: { status: 200, description: "{ keys, next_cursor }", result: listKeysResult },
    errors: ["invalid_request"],
  },
  {
    method: "GET",
    path: "/keys/{id}",
    summary: "Get a key",
    handler: getKeyRoute,
    success: { status: 200, description: "the key object", result: keyViewSchema },
    errors: ["key_not_found"],
  },
  {
    method: "PATCH",
    path: "/keys/{id}",
    summary: "Change a key's settings",
    handler: updateKeyRoute,
    body: updateKeySchema,
    success: { status: 200, description: "the key object", result: keyViewSchema },
    errors: [...KEY_ERRORS, "key_state_conflict"],
  },
  {
    method: "POST",
    path: "/keys/{id}/revoke",
    summary: "Revoke a key, everywhere, for good",
    handler: revokeKeyRoute,
    body: revokeKeySchema,
    success: { status: 200, description: "the key object", result: keyViewSchema },
    errors: KEY_ERRORS,
  },
  {
    method: "POST",
    path: "/keys/{id}/disable",
    summary: "Disable a key until it is enabled",
    handler: disableKeyRoute,
    body: emptyBodySchema,
    success: { status: 200, description: "the key object", result: keyViewSchema },
    errors: [...KEY_ERRORS, "key_state_conflict"],
  },
  {
    method: "POST",
    path: "/keys/{id}/enable",
    summary: "Enable a disabled key",
    handler: enableKeyRoute,
    body: emptyBodySchema,
    success: { status: 200, description: "the key object", result: keyViewSchema },
    errors: [...KEY_ERRORS, "key_state_conflict"],
  },
  {
    method: "POST",
    path: "/keys/{id}/rotate",
    summary: "Mint a successor; the key works until its grace end",
    handler: rotateKeyRoute,
    body: rotateKeySchema,
    success: { status: 201, description: "{ api_key, key, previous: { id, grace_until } }", result: rotateKeyResult },
    errors: [...KEY_ERRORS, "key_state_conflict"],
  },
  {
    method: "POST",
    path: "/leaks/gitleaks",
    summary: "Ingest a gitleaks JSON report: the live keys in it are revoked",
    handler: ingestGitleaksRoute,
    body: gitleaksReportSchema,
    success: {
      status: 200,
      description: "{ results: [{ index, status, key_id, duplicate }], counts }",
      result: ingestSummarySchema,
    },
    errors: ["invalid_request", "rate_limited"],
  },
  {
    method: "POST",
    path: "/leaks/trufflehog",
    summary: "Ingest truffleHog's JSON lines (application/x-ndjson): the live keys in it are revoked",
    handler: ingestTrufflehogRoute,
    success: {
      status: 200,
      description: "{ results: [{ index, status, key_id, duplicate }], counts }",
      result: ingestSummarySchema,
    },
    errors: ["invalid_request", "rate_limited"],
  },
  {
    method: "POST",
    path: "/leaks/scanner",
    summary: "Record the built-in scanner's findings (hashes and locations); revoke them with revoke: true",
    handler: ingestScannerRoute,
    body: scannerReportSchema,
    success: {
      status: 200,
      description: "{ results: [{ index, status, key_id, duplicate }], counts }",
      result: ingestSummarySchema,
    },
    errors: ["invalid_request", "rate_limited"],
  },
  {
    method: "GET",
    path: "/audit",
    summary: "The audit log, newest first",
    handler: listAuditRoute,
    query: listAuditQuery,
    success: { status: 200, description: "{ entries, next_cursor }", result: listAuditResult },
    errors: ["invalid_request"],
  },
  // Monitoring.
  {
    method: "GET",
    path: "/keys/{id}/usage",
    summary: "A key's decisions per UTC day and outcome",
    handler: getKeyUsageRoute,
    query: usageQuery,
    success: { status: 200, description: "{ key_id, from, to, total, outcomes, days }", result: keyUsageResult },
    errors: KEY_ERRORS,
  },
  {
    method: "GET",
    path: "/consumers/{id}/usage",
    summary: "A consumer's decisions (all its keys') per UTC day and outcome",
    handler: getConsumerUsageRoute,
    query: usageQuery,
    success: {
      status: 200,
      description: "{ consumer_id, from, to, total, outcomes, days }",
      result: consumerUsageResult,
    },
    errors: ["consumer_not_found", "invalid_request"],
  },
  {
    method: "GET",
    path: "/usage",
    summary: "All decisions per UTC day and outcome, unknown keys included; or one consumer's; or by consumer",
    handler: getUsageRoute,
    query: allUsageQuery,
    success: {
      status: 200,
      description:
        "{ from, to, total, outcomes, days }; with group_by=consumer { from, to, group_by, consumers, next_cursor }",
      result: allUsageResult,
    },
    errors: ["invalid_request"],
  },
  {
    method: "GET",
    path: "/alerts",
    summary: "Anomaly alerts, newest first",
    handler: listAlertsRoute,
    query: alertsQuery,
    success: { status: 200, description: "{ alerts, next_cursor }", result: listAlertsResult },
    errors: ["invalid_request"],
  },
  {
    method: "GET",
    path: "/report",
    summary: "The API Key Security Implementation Report (Markdown, or ?format=json)",
    handler: getReportRoute,
    query: reportQuery,
    success: {
      status: 200,
      description: "text/markdown, or the same data as JSON with active_keys",
      result: securityReportSchema,
      markdown: true,
    },
    errors: ["invalid_request"],
  },
];

const COMMON_ERRORS: ProblemCode[] = [
  "admin_unauthorized",
  "key_in_query",
  "payload_too_large",
  "unsupported_media_type",
  "authorizer_unavailable",
];

const problemSchema = {
  type: "object",
  required: ["type", "title", "status", "code", "request_id"],
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    code: { type: "string" },
    request_id: { type: "string" },
    errors: {
      type: "array",
      items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } },
    },
  },
};

/** A request schema as what a client may send (defaults optional); a result schema as what it receives. */
const jsonSchema = (schema: z.ZodType, io: "input" | "output" = "input") =>
  z.toJSONSchema(schema, { io, unrepresentable: "any" });

function successResponse({ status, description, result, markdown }: Operation["success"]) {
  const content = {
    ...(markdown ? { "text/markdown": { schema: { type: "string" } } } : {}),
    "application/json": { schema: jsonSchema(result, "output") },
  };
  return { [String(status)]: { description, content } };
}

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

/** What `{id}` is in a path: a consumer's id under /consumers, a key's everywhere else. */
const idPattern = (path: string) => (path.startsWith("/consumers/") ? CONSUMER_ID_PATTERN : KEY_ID_PATTERN);

/** The OpenAPI 3.1 document of the admin API, generated from OPERATIONS. */
export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const parameters = [
      ...(op.path.includes("{id}")
        ? [{ name: "id", in: "path", required: true, schema: { type: "string", pattern: idPattern(op.path).source } }]
        : []),
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
      ...(op.body
        ? {
            requestBody: {
              required: op.method !== "POST" || op.body === createKeySchema,
              content: { "application/json": { schema: jsonSchema(op.body) } },
            },
          }
        : {}),
      responses: {
        ...successResponse(op.success),
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
