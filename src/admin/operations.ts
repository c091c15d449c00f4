/**
 * Every admin operation, listed once: method, path, handler, the schemas it validates its request with and
 * the schema of its result. The router mounts this table and shapes each answer with the result schema, and
 * the OpenAPI 3.1 document is generated from it, so none of them can drift apart.
 */
import * as z from "zod";
import { PROBLEMS, type ProblemCode } from "../http/problem";
import { KEY_ID_PATTERN, keyViewSchema } from "../keys/key-record";
import { CONSUMER_ID_PATTERN, consumerViewSchema } from "../consumers/consumer-record";
import { ingestSummarySchema } from "../leaks/ingest";
import { gitleaksReportSchema, scannerReportSchema } from "../leaks/schemas";
import { securityReportSchema } from "../monitoring/report-schema";
import { checkKeyResult } from "../operations/check-key";
import { createKeyResult } from "../operations/create-key";
import { createPortalSessionResult } from "../operations/create-portal-session";
import { consumerLimitsResult, keyLimitsResult } from "../operations/get-limits";
import { listAlertsResult } from "../operations/list-alerts";
import { listLeakEventsResult } from "../operations/list-leak-events";
import { listAuditResult } from "../operations/list-audit";
import { listConsumersResult } from "../operations/list-consumers";
import { listKeysResult } from "../operations/list-keys";
import { rotateKeyResult } from "../operations/rotate-key";
import {
  alertsQuery,
  checkKeySchema,
  listLeakEventsQuery,
  createConsumerSchema,
  createCredentialSchema,
  listCredentialsQuery,
  allUsageQuery,
  createKeySchema,
  createPortalSessionSchema,
  emptyBodySchema,
  listAuditQuery,
  listConsumerKeysQuery,
  listConsumersQuery,
  listKeysQuery,
  reportQuery,
  revokeKeySchema,
  rotateKeySchema,
  startGraceSchema,
  updateConsumerSchema,
  updateKeySchema,
  usageQuery,
} from "../operations/schemas";
import { allUsageResult, consumerUsageResult, keyUsageResult } from "../operations/usage";
import type { AdminContext } from "./context";
import type { AdminPermission } from "../operations/permissions";
import { checkKeyRoute } from "./check-key";
import { createConsumerRoute } from "./create-consumer";
import { getConsumerLimitsRoute, getKeyLimitsRoute } from "./get-limits";
import { createCredentialRoute } from "./create-credential";
import { createPortalSessionRoute } from "./create-portal-session";
import { getCredentialRoute } from "./get-credential";
import { listCredentialsRoute } from "./list-credentials";
import { revokeCredentialRoute } from "./revoke-credential";
import { CREDENTIAL_ID_PATTERN, credentialViewSchema } from "../credentials/credential-record";
import { createCredentialResult } from "../operations/create-credential";
import { listCredentialsResult } from "../operations/list-credentials";
import { getConsumerUsageRoute } from "./get-consumer-usage";
import { createKeyRoute } from "./create-key";
import { deleteConsumerRoute } from "./delete-consumer";
import { getConsumerRoute } from "./get-consumer";
import { getKeyRoute } from "./get-key";
import { getReportRoute } from "./get-report";
import { getKeyUsageRoute, getUsageRoute } from "./get-usage";
import { ingestGitleaksRoute } from "./ingest-gitleaks";
import { ingestScannerRoute } from "./ingest-scanner";
import { ingestTrufflehogRoute } from "./ingest-trufflehog";
import { listAlertsRoute } from "./list-alerts";
import { listLeakEventsRoute } from "./list-leak-events";
import { listAuditRoute } from "./list-audit";
import { listConsumerKeysRoute } from "./list-consumer-keys";
import { listConsumersRoute } from "./list-consumers";
import { listKeysRoute } from "./list-keys";
import { revokeKeyRoute } from "./revoke-key";
import { rotateKeyRoute } from "./rotate-key";
import { startGraceRoute } from "./start-grace";
import { disableKeyRoute, enableKeyRoute } from "./set-key-status";
import { disableConsumerRoute, enableConsumerRoute } from "./set-consumer-status";
import { revokeConsumerKeysRoute } from "./revoke-consumer-keys";
import { updateConsumerRoute } from "./update-consumer";
import { updateKeyRoute } from "./update-key";

export interface Operation {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** OpenAPI form: "/keys/{id}". */
  path: string;
  summary: string;
  /** What a principal must hold to call it (src/operations/permissions.ts). */
  permission: AdminPermission;
  /**
   * Whether a principal limited to some consumers may call it: the operation keeps to the principal's
   * consumers itself (a key or consumer outside them is not found; a list leaves them out). The others
   * read or change what spans every consumer, so such a principal gets 403 `forbidden_operation`.
   */
  consumerScoped?: true;
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
const CONSUMER_ERRORS: ProblemCode[] = ["consumer_not_found", "invalid_request"];
/** What a key's create or rotation can refuse about its consumer. */
const KEY_CONSUMER_ERRORS: ProblemCode[] = ["consumer_state_conflict", "key_policy_violation"];

export const OPERATIONS: readonly Operation[] = [
  {
    method: "POST",
    path: "/keys",
    permission: "keys:create",
    consumerScoped: true,
    summary: "Mint a key (the secret is in this response only)",
    handler: createKeyRoute,
    body: createKeySchema,
    success: { status: 201, description: "{ api_key, key }", result: createKeyResult },
    errors: ["invalid_request", ...KEY_CONSUMER_ERRORS],
  },
  {
    method: "GET",
    path: "/keys",
    permission: "keys:read",
    consumerScoped: true,
    summary: "List keys, newest first; q= finds keys by id, hint or a part of the name",
    handler: listKeysRoute,
    query: listKeysQuery,
    success: { status: 200, description: "{ keys, next_cursor }", result: listKeysResult },
    errors: ["invalid_request"],
  },
  {
    method: "GET",
    path: "/keys/{id}",
    permission: "keys:read",
    consumerScoped: true,
    summary: "Get a key",
    handler: getKeyRoute,
    success: { status: 200, description: "the key object", result: keyViewSchema },
    errors: ["key_not_found"],
  },
  {
    method: "PATCH",
    path: "/keys/{id}",
    permission: "keys:create",
    consumerScoped: true,
    summary: "Change a key's settings",
    handler: updateKeyRoute,
    body: updateKeySchema,
    success: { status: 200, description: "the key object", result: keyViewSchema },
    errors: [...KEY_ERRORS, "key_state_conflict"],
  },
  {
    method: "POST",
    path: "/keys/{id}/revoke",
    permission: "keys:revoke",
    consumerScoped: true,
    summary: "Revoke a key, everywhere, for good",
    handler: revokeKeyRoute,
    body: revokeKeySchema,
    success: { status: 200, description: "the key object", result: keyViewSchema },
    errors: KEY_ERRORS,
  },
  {
    method: "POST",
    path: "/keys/{id}/disable",
    permission: "keys:revoke",
    consumerScoped: true,
    summary: "Disable a key until it is enabled",
    handler: disableKeyRoute,
    body: emptyBodySchema,
    success: { status: 200, description: "the key object", result: keyViewSchema },
    errors: [...KEY_ERRORS, "key_state_conflict"],
  },
  {
    method: "POST",
    path: "/keys/{id}/enable",
    permission: "keys:create",
    consumerScoped: true,
    summary: "Enable a disabled key",
    handler: enableKeyRoute,
    body: emptyBodySchema,
    success: { status: 200, description: "the key object", result: keyViewSchema },
    errors: [...KEY_ERRORS, "key_state_conflict"],
  },
  {
    method: "POST",
    path: "/keys/{id}/rotate",
    permission: "keys:rotate",
    consumerScoped: true,
    summary: "Mint a successor; the key works until its grace end",
    handler: rotateKeyRoute,
    body: rotateKeySchema,
    success: { status: 201, description: "{ api_key, key, previous: { id, grace_until } }", result: rotateKeyResult },
    errors: [...KEY_ERRORS, "key_state_conflict", ...KEY_CONSUMER_ERRORS],
  },
  {
    method: "POST",
    path: "/keys/{id}/start-grace",
    permission: "keys:rotate",
    consumerScoped: true,
    summary: "Start the grace period of a key rotated with defer_grace (idempotent)",
    handler: startGraceRoute,
    body: startGraceSchema,
    success: { status: 200, description: "the old key, with its grace_until", result: keyViewSchema },
    errors: [...KEY_ERRORS, "key_state_conflict"],
  },
  {
    method: "POST",
    path: "/keys/check",
    permission: "keys:check",
    consumerScoped: true,
    summary: "What the gateway would answer a request with this key: nothing spent, counted or logged",
    handler: checkKeyRoute,
    body: checkKeySchema,
    success: { status: 200, description: "{ valid, code, key_id, limits }", result: checkKeyResult },
    errors: ["invalid_request", "rate_limited"],
  },
  {
    method: "GET",
    path: "/keys/{id}/limits",
    permission: "keys:read",
    consumerScoped: true,
    summary: "A key's remaining limits, then its consumer's, read without spending",
    handler: getKeyLimitsRoute,
    success: { status: 200, description: "{ key_id, limits }", result: keyLimitsResult },
    errors: ["key_not_found"],
  },
  // Consumers.
  {
    method: "POST",
    path: "/consumers",
    permission: "consumers:write",
    consumerScoped: true,
    summary: "Create a consumer: the owner of keys, with shared limits and a key policy",
    handler: createConsumerRoute,
    body: createConsumerSchema,
    success: { status: 201, description: "the consumer object", result: consumerViewSchema },
    errors: ["invalid_request", "consumer_exists"],
  },
  {
    method: "GET",
    path: "/consumers",
    permission: "consumers:read",
    consumerScoped: true,
    summary: 'List consumers, newest first (?id= finds one by exact id, "." and ".." included)',
    handler: listConsumersRoute,
    query: listConsumersQuery,
    success: { status: 200, description: "{ consumers, next_cursor }", result: listConsumersResult },
    errors: ["invalid_request"],
  },
  {
    method: "GET",
    path: "/consumers/{id}",
    permission: "consumers:read",
    consumerScoped: true,
    summary: "Get a consumer",
    handler: getConsumerRoute,
    success: { status: 200, description: "the consumer object", result: consumerViewSchema },
    errors: ["consumer_not_found"],
  },
  {
    method: "PATCH",
    path: "/consumers/{id}",
    permission: "consumers:write",
    consumerScoped: true,
    summary: "Change a consumer's settings, in force everywhere when this returns",
    handler: updateConsumerRoute,
    body: updateConsumerSchema,
    success: { status: 200, description: "the consumer object", result: consumerViewSchema },
    errors: ["consumer_not_found", "invalid_request"],
  },
  {
    method: "DELETE",
    path: "/consumers/{id}",
    permission: "consumers:write",
    consumerScoped: true,
    summary: "Delete a consumer whose keys are all revoked (the row stays, marked deleted)",
    handler: deleteConsumerRoute,
    body: emptyBodySchema,
    success: { status: 200, description: "the consumer object", result: consumerViewSchema },
    errors: ["consumer_not_found", "invalid_request", "consumer_has_keys"],
  },
  {
    method: "GET",
    path: "/consumers/{id}/limits",
    permission: "consumers:read",
    consumerScoped: true,
    summary: "A consumer's remaining shared limits, read without spending",
    handler: getConsumerLimitsRoute,
    success: { status: 200, description: "{ consumer_id, limits }", result: consumerLimitsResult },
    errors: ["consumer_not_found"],
  },
  {
    method: "GET",
    path: "/consumers/{id}/keys",
    permission: "keys:read",
    consumerScoped: true,
    summary: "A consumer's keys, newest first",
    handler: listConsumerKeysRoute,
    query: listConsumerKeysQuery,
    success: { status: 200, description: "{ keys, next_cursor }", result: listKeysResult },
    errors: ["consumer_not_found", "invalid_request"],
  },
  {
    method: "POST",
    path: "/leaks/gitleaks",
    permission: "leaks:ingest",
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
    permission: "leaks:ingest",
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
    permission: "leaks:ingest",
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
    permission: "audit:read",
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
    permission: "usage:read",
    consumerScoped: true,
    summary: "A key's decisions per UTC day (or hour) and outcome",
    handler: getKeyUsageRoute,
    query: usageQuery,
    success: {
      status: 200,
      description: "{ key_id, from, to, granularity, total, outcomes, days } (per hour: hours)",
      result: keyUsageResult,
    },
    errors: KEY_ERRORS,
  },
  {
    method: "GET",
    path: "/consumers/{id}/usage",
    permission: "usage:read",
    consumerScoped: true,
    summary: "A consumer's decisions (all its keys') per UTC day (or hour) and outcome",
    handler: getConsumerUsageRoute,
    query: usageQuery,
    success: {
      status: 200,
      description: "{ consumer_id, from, to, granularity, total, outcomes, days } (per hour: hours)",
      result: consumerUsageResult,
    },
    errors: ["consumer_not_found", "invalid_request"],
  },
  {
    method: "GET",
    path: "/usage",
    permission: "usage:read",
    summary:
      "All decisions per UTC day (or hour) and outcome, unknown keys included; or one consumer's; or by consumer",
    handler: getUsageRoute,
    query: allUsageQuery,
    success: {
      status: 200,
      description:
        "{ from, to, granularity, total, outcomes, days } (per hour: hours); with group_by=consumer { from, to, granularity, group_by, consumers, next_cursor }",
      result: allUsageResult,
    },
    errors: ["invalid_request"],
  },
  {
    method: "GET",
    path: "/leaks",
    permission: "report:read",
    summary: "Leak events (keys reported found in public), newest first, with the time to revocation",
    handler: listLeakEventsRoute,
    consumerScoped: true,
    query: listLeakEventsQuery,
    success: { status: 200, description: "{ events, next_cursor }", result: listLeakEventsResult },
    errors: ["invalid_request"],
  },
  {
    method: "GET",
    path: "/alerts",
    permission: "usage:read",
    summary: "Anomaly alerts, newest first",
    handler: listAlertsRoute,
    query: alertsQuery,
    success: { status: 200, description: "{ alerts, next_cursor }", result: listAlertsResult },
    errors: ["invalid_request"],
  },
  {
    method: "GET",
    path: "/report",
    permission: "report:read",
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
  {
    method: "POST",
    path: "/consumers/{id}/disable",
    permission: "consumers:write",
    consumerScoped: true,
    summary: "Disable a consumer: every key of it refused at once, until enabled",
    handler: disableConsumerRoute,
    body: emptyBodySchema,
    success: { status: 200, description: "the consumer", result: consumerViewSchema },
    errors: CONSUMER_ERRORS,
  },
  {
    method: "POST",
    path: "/consumers/{id}/enable",
    permission: "consumers:write",
    consumerScoped: true,
    summary: "Enable a disabled consumer",
    handler: enableConsumerRoute,
    body: emptyBodySchema,
    success: { status: 200, description: "the consumer", result: consumerViewSchema },
    errors: CONSUMER_ERRORS,
  },
  {
    method: "POST",
    path: "/consumers/{id}/revoke-keys",
    permission: "consumers:write",
    consumerScoped: true,
    summary: "Revoke every key of a consumer: refused at once, completed in batches",
    handler: revokeConsumerKeysRoute,
    body: revokeKeySchema,
    success: { status: 200, description: "the consumer, with the job's progress", result: consumerViewSchema },
    errors: CONSUMER_ERRORS,
  },
  {
    method: "POST",
    path: "/portal/sessions",
    permission: "consumers:write",
    consumerScoped: true,
    summary: "A one-time link to a consumer's self-service portal (the link is in this response only)",
    handler: createPortalSessionRoute,
    body: createPortalSessionSchema,
    success: { status: 201, description: "{ url, expires_at }", result: createPortalSessionResult },
    errors: [...CONSUMER_ERRORS, "portal_unavailable"],
  },
  // Scoped admin credentials.
  {
    method: "POST",
    path: "/credentials",
    permission: "credentials:write",
    consumerScoped: true,
    summary: "Mint a scoped admin credential, never broader than its minter (the secret is in this response only)",
    handler: createCredentialRoute,
    body: createCredentialSchema,
    success: { status: 201, description: "{ credential, details }", result: createCredentialResult },
    errors: ["invalid_request", "forbidden_operation"],
  },
  {
    method: "GET",
    path: "/credentials",
    permission: "credentials:write",
    consumerScoped: true,
    summary: "List admin credentials, newest first",
    handler: listCredentialsRoute,
    query: listCredentialsQuery,
    success: { status: 200, description: "{ credentials, next_cursor }", result: listCredentialsResult },
    errors: ["invalid_request"],
  },
  {
    method: "GET",
    path: "/credentials/{id}",
    permission: "credentials:write",
    consumerScoped: true,
    summary: "Get an admin credential",
    handler: getCredentialRoute,
    success: { status: 200, description: "the credential object", result: credentialViewSchema },
    errors: ["credential_not_found"],
  },
  {
    method: "POST",
    path: "/credentials/{id}/revoke",
    permission: "credentials:write",
    consumerScoped: true,
    summary: "Revoke an admin credential, at once",
    handler: revokeCredentialRoute,
    body: revokeKeySchema,
    success: { status: 200, description: "the credential object", result: credentialViewSchema },
    errors: ["credential_not_found", "invalid_request"],
  },
];

const COMMON_ERRORS: ProblemCode[] = [
  "admin_unauthorized",
  "forbidden_operation",
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
    detail: { type: "string" },
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

/** The grammar of the `{id}` in a path: a consumer's under /consumers, a credential's under /credentials, else a key's. */
const idPattern = (path: string) =>
  path.startsWith("/consumers/")
    ? CONSUMER_ID_PATTERN
    : path.startsWith("/credentials/")
      ? CREDENTIAL_ID_PATTERN
      : KEY_ID_PATTERN;

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
      description: `Needs the \`${op.permission}\` permission.`,
      "x-permission": op.permission,
      security: [{ adminToken: [] }],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(op.body
        ? {
            requestBody: {
              required:
                op.method === "PATCH" ||
                op.body === createKeySchema ||
                op.body === createConsumerSchema ||
                op.body === createPortalSessionSchema ||
                op.body === checkKeySchema,
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
