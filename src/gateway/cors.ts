/**
 * CORS for browsers calling the gateway with publishable keys. A preflight carries no key, so the
 * authorizer answers it itself from the configured policy; it is never forwarded to the origin.
 */
import type { CorsPolicy } from "../config";
import { problem } from "../http/problem";

export function isPreflight(request: Request): boolean {
  return (
    request.method === "OPTIONS" &&
    request.headers.has("Origin") &&
    request.headers.has("Access-Control-Request-Method")
  );
}

function originAllowed(policy: CorsPolicy, origin: string): boolean {
  return policy.allowedOrigins.includes("*") || policy.allowedOrigins.includes(origin);
}

/** Answers a preflight: 204 with the policy when origin, method and headers all fit; 403 otherwise. */
export function answerPreflight(request: Request, policy: CorsPolicy, requestId: string): Response {
  const origin = request.headers.get("Origin")!;
  const method = request.headers.get("Access-Control-Request-Method")!;
  const requested = (request.headers.get("Access-Control-Request-Headers") ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== "");
  const fits =
    originAllowed(policy, origin) &&
    policy.allowedMethods.includes(method) &&
    requested.every((h) => policy.allowedHeaders.includes(h));
  if (!fits) return problem("origin_not_allowed", { requestId, headers: { Vary: "Origin" } });
  return new Response(null, {
    status: 204,
    headers: {
      "Access-Control-Allow-Origin": origin,
      "Access-Control-Allow-Methods": policy.allowedMethods.join(", "),
      "Access-Control-Allow-Headers": policy.allowedHeaders.join(", "),
      "Access-Control-Max-Age": String(policy.maxAgeSeconds),
      "Cache-Control": "no-store",
      Vary: "Origin",
    },
  });
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** The CORS headers for a response to this request: none unless its Origin is allowed. */
export function corsHeaders(request: Request, policy: CorsPolicy): Readonly<Record<string, string>> {
  if (policy.allowedOrigins.length === 0) return NO_HEADERS; // CORS off: no header to read
  const origin = request.headers.get("Origin");
  if (origin === null || !originAllowed(policy, origin)) return {};
  return { "Access-Control-Allow-Origin": origin, Vary: "Origin" };
}
