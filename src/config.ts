/**
 * Deployment settings from `[vars]`, validated once per isolate (and again only if the raw values change).
 * A malformed setting never falls back to something more permissive: the routes that depend on it refuse
 * with 503 and one log line naming the setting.
 */
import { isVendorPart } from "./keys/format";
import { log } from "./util/log";
import { DEFAULT_ROUTE_POLICY, isSupportedMethod, parseRoutePolicy, type PolicyRule } from "./http/route-policy";

export interface CorsPolicy {
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  maxAgeSeconds: number;
}

/** REFUSAL_THROTTLE_LIMIT and REFUSAL_THROTTLE_WINDOW_SECONDS, for the refusal throttle (src/verify/throttle.ts). */
export interface ThrottleConfig {
  /** Refusals allowed per window per client; 0 turns the throttle off. */
  limit: number;
  windowSeconds: number;
}

export interface Config {
  vendor: string;
  maxLifetimeDays: number;
  routePolicy: PolicyRule[];
  cors: CorsPolicy;
  realm: string;
  originUrl: URL | null;
  originTimeoutMs: number;
  refusalThrottle: ThrottleConfig;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; setting: string };

const NO_CORS: CorsPolicy = { allowedOrigins: [], allowedMethods: [], allowedHeaders: [], maxAgeSeconds: 0 };

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseCors(text: string): CorsPolicy | null {
  if (text.trim() === "") return NO_CORS;
  const value = parseJson(text) as Record<string, unknown> | undefined;
  if (typeof value !== "object" || value === null) return null;
  const list = (v: unknown) => (Array.isArray(v) && v.every((s) => typeof s === "string") ? (v as string[]) : null);
  const origins = list(value.allowed_origins ?? []);
  const methods = list(value.allowed_methods ?? ["GET", "HEAD", "POST"]);
  const headers = list(value.allowed_headers ?? ["Authorization", "X-API-Key", "Content-Type"]);
  const maxAge = value.max_age ?? 600;
  if (!origins || !methods || !headers || typeof maxAge !== "number" || !(maxAge >= 0 && maxAge <= 86400)) return null;
  if (!methods.every(isSupportedMethod) || !origins.every(isOrigin)) return null;
  return {
    allowedOrigins: origins,
    allowedMethods: methods,
    allowedHeaders: headers.map((h) => h.toLowerCase()),
    maxAgeSeconds: maxAge,
  };
}

/** An origin as browsers send it: scheme, host and optional port, nothing else. */
export function isOrigin(text: string): boolean {
  try {
    return new URL(text).origin === text;
  } catch {
    return false;
  }
}

function parse(env: Cloudflare.Env): ConfigResult {
  const vendor = env.KEY_VENDOR_PREFIX ?? "";
  if (!isVendorPart(vendor)) return { ok: false, setting: "KEY_VENDOR_PREFIX" };

  const maxLifetimeDays = Number(env.MAX_KEY_LIFETIME_DAYS || "365");
  if (!Number.isInteger(maxLifetimeDays) || maxLifetimeDays < 1 || maxLifetimeDays > 3650) {
    return { ok: false, setting: "MAX_KEY_LIFETIME_DAYS" };
  }

  const policyText = env.ROUTE_POLICY ?? "";
  const parsedPolicy = parseRoutePolicy(policyText.trim() === "" ? DEFAULT_ROUTE_POLICY : parseJson(policyText));
  if (!parsedPolicy) return { ok: false, setting: "ROUTE_POLICY" };
  const routePolicy = parsedPolicy.rules;
  if (parsedPolicy.shadowed.length > 0) {
    // Once per isolate per setting (parse runs behind the memo). counts: each dead rule's position (from 0)
    // → the position of the earlier rule that always matches first.
    const counts = Object.fromEntries(parsedPolicy.shadowed.map((s) => [`rule_${s.index}`, s.shadowedBy]));
    log("warn", "config.route_rule_shadowed", { setting: "ROUTE_POLICY", count: parsedPolicy.shadowed.length, counts });
  }

  const cors = parseCors(env.CORS_POLICY ?? "");
  if (!cors) return { ok: false, setting: "CORS_POLICY" };

  const realm = env.AUTH_REALM || "api";
  if (!/^[A-Za-z0-9 ._-]{1,64}$/.test(realm)) return { ok: false, setting: "AUTH_REALM" };

  let originUrl: URL | null = null;
  if (env.ORIGIN_URL) {
    try {
      originUrl = new URL(env.ORIGIN_URL);
    } catch {
      return { ok: false, setting: "ORIGIN_URL" };
    }
    if (!/^https?:$/.test(originUrl.protocol) || originUrl.search || originUrl.hash) {
      return { ok: false, setting: "ORIGIN_URL" };
    }
  }

  const originTimeoutMs = Number(env.ORIGIN_TIMEOUT_MS || "30000");
  if (!Number.isInteger(originTimeoutMs) || originTimeoutMs < 100 || originTimeoutMs > 300_000) {
    return { ok: false, setting: "ORIGIN_TIMEOUT_MS" };
  }

  const throttleLimit = Number(env.REFUSAL_THROTTLE_LIMIT || "50");
  const throttleWindow = Number(env.REFUSAL_THROTTLE_WINDOW_SECONDS || "60");
  if (!Number.isInteger(throttleLimit) || throttleLimit < 0 || throttleLimit > 1_000_000) {
    return { ok: false, setting: "REFUSAL_THROTTLE_LIMIT" };
  }
  if (!Number.isInteger(throttleWindow) || throttleWindow < 1 || throttleWindow > 86_400) {
    return { ok: false, setting: "REFUSAL_THROTTLE_WINDOW_SECONDS" };
  }
  const refusalThrottle = { limit: throttleLimit, windowSeconds: throttleWindow };

  return {
    ok: true,
    config: { vendor, maxLifetimeDays, routePolicy, cors, realm, originUrl, originTimeoutMs, refusalThrottle },
  };
}

/** The raw settings `parse` reads: the memo below holds while every one of them is the same string. */
const SETTINGS = [
  "KEY_VENDOR_PREFIX",
  "MAX_KEY_LIFETIME_DAYS",
  "ROUTE_POLICY",
  "CORS_POLICY",
  "AUTH_REALM",
  "ORIGIN_URL",
  "ORIGIN_TIMEOUT_MS",
  "REFUSAL_THROTTLE_LIMIT",
  "REFUSAL_THROTTLE_WINDOW_SECONDS",
] as const satisfies readonly (keyof Cloudflare.Env)[];

type Settings = Partial<Record<(typeof SETTINGS)[number], string>>;

let memo: { settings: Settings; result: ConfigResult } | null = null;

/**
 * The validated settings for this env. Cheap on the hot path: nine string comparisons and no allocation while
 * the settings are the ones parsed last; other settings (tests make their own envs) are parsed again.
 */
export function loadConfig(env: Cloudflare.Env): ConfigResult {
  if (memo === null || !sameSettings(memo.settings, env)) {
    const settings: Settings = {};
    for (const name of SETTINGS) settings[name] = env[name];
    memo = { settings, result: parse(env) };
    if (!memo.result.ok) log("error", "config.invalid", { degraded: "config_invalid", setting: memo.result.setting });
  }
  return memo.result;
}

function sameSettings(settings: Settings, env: Cloudflare.Env): boolean {
  for (const name of SETTINGS) if (settings[name] !== env[name]) return false;
  return true;
}

/**
 * Where the console (and later the consumer portal) is served: a hostname of its own, whose every path is the
 * console's (so no origin page is ever same-origin with it), or a path prefix on the API hostname, which
 * takes that one first segment from the origin. `prefix` is "" on a hostname of its own.
 */
export interface ConsoleMount {
  hostname: string | null;
  prefix: string;
}

/** CONSOLE_HOSTNAME, CONSOLE_PATH and CONSOLE_TOKEN_SIGNIN: null when the console is off. */
export interface ConsoleConfig {
  mount: ConsoleMount;
  /** Whether the admin-token sign-in form is offered (on by default unless Access is configured). */
  tokenSignIn: boolean;
}

/** First segments the console's path may not take: the Worker's own (src/reserved-paths.ts). */
const CONSOLE_PATH_PATTERN = /^\/[a-z0-9_][a-z0-9_-]{0,31}$/i;
const HOSTNAME_PATTERN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

function parseConsole(env: Cloudflare.Env, reserved: ReadonlySet<string>): ConsoleConfig | null | "invalid" {
  const hostname = (env.CONSOLE_HOSTNAME ?? "").trim().toLowerCase();
  const path = (env.CONSOLE_PATH ?? "").trim();
  if (hostname === "" && path === "") return null;
  if (hostname !== "" && path !== "") return "invalid"; // one or the other: a path on its own host means nothing
  if (hostname !== "" && !HOSTNAME_PATTERN.test(hostname)) return "invalid";
  if (path !== "" && (!CONSOLE_PATH_PATTERN.test(path) || reserved.has(path.slice(1).toLowerCase()))) return "invalid";
  const signIn = (env.CONSOLE_TOKEN_SIGNIN ?? "").trim();
  if (!["", "true", "false"].includes(signIn)) return "invalid";
  const accessConfigured = (env.ACCESS_TEAM_DOMAIN ?? "") !== "" || (env.ACCESS_AUD ?? "") !== "";
  return {
    mount: { hostname: hostname === "" ? null : hostname, prefix: hostname === "" ? path : "" },
    tokenSignIn: signIn === "" ? !accessConfigured : signIn === "true",
  };
}

/** The raw settings the console's parse reads: the memo below holds while each is the same string. */
const CONSOLE_SETTINGS = [
  "CONSOLE_HOSTNAME",
  "CONSOLE_PATH",
  "CONSOLE_TOKEN_SIGNIN",
  "ACCESS_TEAM_DOMAIN",
  "ACCESS_AUD",
] as const satisfies readonly (keyof Cloudflare.Env)[];

function sameConsoleSettings(values: readonly (string | undefined)[], env: Cloudflare.Env): boolean {
  for (let i = 0; i < CONSOLE_SETTINGS.length; i++) if (env[CONSOLE_SETTINGS[i]!] !== values[i]) return false;
  return true;
}

let consoleMemo: { values: (string | undefined)[]; result: ConsoleConfig | null } | null = null;

/**
 * The console's settings, or null when it is off. Read by the entry for every request, so it is memoised on
 * the raw values (five string comparisons, no allocation, while they are the ones parsed last). A malformed
 * setting turns the console off (never on somewhere unintended), with one log line naming it.
 * @example const console = loadConsoleConfig(env, RESERVED_FIRST_SEGMENTS); if (console) …
 */
export function loadConsoleConfig(env: Cloudflare.Env, reserved: ReadonlySet<string>): ConsoleConfig | null {
  if (consoleMemo === null || !sameConsoleSettings(consoleMemo.values, env)) {
    const parsed = parseConsole(env, reserved);
    if (parsed === "invalid") {
      log("error", "config.invalid", {
        degraded: "config_invalid",
        setting: "CONSOLE_HOSTNAME, CONSOLE_PATH, CONSOLE_TOKEN_SIGNIN",
      });
    }
    consoleMemo = { values: CONSOLE_SETTINGS.map((name) => env[name]), result: parsed === "invalid" ? null : parsed };
  }
  return consoleMemo.result;
}
