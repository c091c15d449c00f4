/**
 * Route patterns ("<METHOD> <path>"), used both by a key's `allowed_routes` and by the route policy that
 * says which scopes a request needs. METHOD is an HTTP method or "*"; the path is literal segments, with an
 * optional final "/*" meaning "this path and anything below it":
 *
 *   "GET /api/v1/public/*"   GET /api/v1/public, /api/v1/public/, /api/v1/public/a/b — not /api/v1/publicity
 *   "* /api/v1/reports/*"    any method under /api/v1/reports
 *
 * A GET pattern also covers HEAD, which is GET without a body (RFC 9110 §9.3.2).
 */

export const SUPPORTED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
export type Method = (typeof SUPPORTED_METHODS)[number];
export const ALLOW_HEADER = SUPPORTED_METHODS.join(", ");

export function isSupportedMethod(method: string): method is Method {
  return (SUPPORTED_METHODS as readonly string[]).includes(method);
}

export interface RoutePattern {
  method: Method | "*";
  /** Literal segments the path must start with (or equal, without a wildcard). */
  segments: string[];
  wildcard: boolean;
}

const LITERAL_SEGMENT = /^[A-Za-z0-9._~!$&'()+,;=:@-]*$/;

export function parseRoutePattern(text: string): RoutePattern | null {
  const match = /^([A-Z]+|\*) (\/\S*)$/.exec(text);
  if (!match) return null;
  const [, method, path] = match as unknown as [string, string, string];
  if (method !== "*" && !isSupportedMethod(method)) return null;
  const parts = path.slice(1).split("/");
  const wildcard = parts[parts.length - 1] === "*";
  if (wildcard) parts.pop();
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (!LITERAL_SEGMENT.test(part) || part === "." || part === "..") return null;
    if (part === "" && (i !== parts.length - 1 || wildcard)) return null;
  }
  return { method: method as Method | "*", segments: parts, wildcard };
}

/** True if a pattern's method covers the request's: itself, "*", and HEAD under GET. */
function methodCovers(patternMethod: Method | "*", method: string): boolean {
  return patternMethod === "*" || patternMethod === method || (patternMethod === "GET" && method === "HEAD");
}

/** True if the method and the canonical (decoded) path segments fall under the pattern. */
export function routeMatches(pattern: RoutePattern, method: string, segments: readonly string[]): boolean {
  if (!methodCovers(pattern.method, method)) return false;
  return pathCovers(pattern, segments, false);
}

/** True if every path `segments` (with `wildcard`, anything below it too) falls under the pattern's path. */
function pathCovers(pattern: RoutePattern, segments: readonly string[], wildcard: boolean): boolean {
  const prefix = pattern.segments;
  if (wildcard && !pattern.wildcard) return false;
  if (pattern.wildcard ? segments.length < prefix.length : segments.length !== prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (segments[i] !== prefix[i]) return false;
  return true;
}

/**
 * True if every request `later` matches is matched by `earlier` too, so that in a first-match policy `later`
 * can never apply (e.g. "HEAD /a" after "GET /a", or anything after "* /*").
 */
function patternCovers(earlier: RoutePattern, later: RoutePattern): boolean {
  if (later.method === "*" ? earlier.method !== "*" : !methodCovers(earlier.method, later.method)) return false;
  return pathCovers(earlier, later.segments, later.wildcard);
}

export const SCOPE_PATTERN = /^[a-z][a-z0-9_:.-]{0,63}$/;

export interface PolicyRule {
  pattern: RoutePattern;
  /** Any one of these scopes suffices. An empty list: any valid key may call the route. */
  scopes: string[];
  /** Tokens a matching request spends from every limit of the key and its consumer, all or nothing. */
  cost: number;
}

/** The largest `cost` a rule may carry. */
const MAX_ROUTE_COST = 1_000;

/** The classic mapping, used when ROUTE_POLICY is empty: reads need read or admin, writes need write or admin. */
export const DEFAULT_ROUTE_POLICY: readonly { route: string; scopes: string[] }[] = [
  ...["GET", "OPTIONS"].map((m) => ({ route: `${m} /*`, scopes: ["read", "admin"] })),
  ...["POST", "PUT", "PATCH", "DELETE"].map((m) => ({ route: `${m} /*`, scopes: ["write", "admin"] })),
];

/** A rule that an earlier rule covers entirely: first match wins, so it can never apply. */
interface ShadowedRule {
  /** Positions in the policy, from 0. */
  index: number;
  shadowedBy: number;
}

export type ParsedRoutePolicy = { rules: PolicyRule[]; shadowed: ShadowedRule[] };

/**
 * Validates a route policy; returns null if any rule is malformed (the gateway then fails closed). Rules
 * that an earlier rule covers are kept (they change nothing) and listed, for one warning at load: refusing
 * them would turn a policy that worked before HEAD followed GET into an outage.
 */
export function parseRoutePolicy(rules: unknown): ParsedRoutePolicy | null {
  if (!Array.isArray(rules)) return null;
  const out: PolicyRule[] = [];
  const shadowed: ShadowedRule[] = [];
  for (const rule of rules) {
    if (typeof rule !== "object" || rule === null) return null;
    const { route, scopes, cost = 1 } = rule as { route?: unknown; scopes?: unknown; cost?: unknown };
    const pattern = typeof route === "string" ? parseRoutePattern(route) : null;
    if (!pattern || !Array.isArray(scopes)) return null;
    if (!Number.isInteger(cost) || (cost as number) < 1 || (cost as number) > MAX_ROUTE_COST) return null;
    if (!scopes.every((s): s is string => typeof s === "string" && SCOPE_PATTERN.test(s))) return null;
    const by = out.findIndex((earlier) => patternCovers(earlier.pattern, pattern));
    if (by !== -1) shadowed.push({ index: out.length, shadowedBy: by });
    out.push({ pattern, scopes, cost: cost as number });
  }
  return { rules: out, shadowed };
}

/**
 * The first rule that matches a request: the scopes it needs and its cost; null when no rule matches, which
 * the verifier refuses (deny by default).
 */
export function matchingRule(
  policy: readonly PolicyRule[],
  method: string,
  segments: readonly string[],
): PolicyRule | null {
  for (const rule of policy) if (routeMatches(rule.pattern, method, segments)) return rule;
  return null;
}
