/**
 * Structured log lines: one JSON object per line, so a log search can filter on `msg`, `code` or `degraded`
 * instead of parsing prose. Lines never hold a key or a hash: only the fields below are written, every value
 * is a short scalar (`counts` holds only named numbers), and any value that looks like a credential or a
 * SHA-256 hash is replaced before it is written. JSON escaping turns CR, LF, NUL and other control characters into `\r`, `\n`, `\u0000`; U+2028 and
 * U+2029 (line breaks to some log viewers) are escaped as well, so one call is always exactly one line.
 */
import { anyKeyPatternSource, RANDOM_LENGTH } from "../keys/format";
import { clock } from "./clock";
import { epochSeconds } from "./time";

export type LogLevel = "info" | "warn" | "error";

/** What is not working as it should, named the same way in every line that reports it. */
type DegradedMode =
  | "kv_unavailable"
  | "d1_unavailable"
  | "key_object_unavailable"
  | "propagation_incomplete"
  | "config_invalid"
  | "admin_auth_unconfigured"
  | "access_keys_unavailable"
  | "origin_not_configured"
  | "origin_unreachable"
  | "origin_timeout"
  | "usage_lost"
  | "notify_unconfigured"
  | "notify_failed"
  | "github_keys_unavailable";

export interface LogFields {
  request_id?: string;
  key_id?: string;
  /** A consumer's id (the keys' owner_id). */
  consumer_id?: string;
  /** For a refusal by a consumer's key policy: the rule (`max_active_keys`, `allowed_scopes`, …). */
  rule?: string;
  /** A problem code for refusals, or the admin action for mutations. */
  code?: string;
  degraded?: DegradedMode;
  /** The configuration setting or binding concerned (a name, never its value). */
  setting?: string;
  status?: number;
  method?: string;
  /** An admin route's pattern (`/admin/v1/keys/:id`), never the path with its ids. */
  route?: string;
  actor?: string;
  /** For a refused admin call: the change it was attempting. */
  action?: string;
  /** Where a decision was asked for, when not over HTTP ("rpc"). */
  via?: string;
  /** The kind of an error caught (its `name`), never its message: messages can hold SQL or a binding's internals. */
  error?: string;
  /** For `refused.suppressed`: how many refusals were counted but not written (their codes are in `counts`). */
  count?: number;
  /** The type of an owner event (`key.leaked`, …) a notification line is about. */
  type?: string;
  /** The id of an owner event, as its webhook delivery carries it. */
  event_id?: string;
  /** Which delivery attempt (0 = the first) a line is about. */
  attempt?: number;
  /** Named counts (rows written, pruned or lost, failures): names are `[a-z][a-z0-9_]*`, values finite numbers. */
  counts?: Record<string, number>;
}

/** Longest value written; longer ones are cut (a log line is no place for a body). */
export const MAX_LOG_VALUE_LENGTH = 200;

/**
 * Base62 characters after a key prefix that make a value count as a key here, even one cut short: what is
 * left hidden of a key that shows fewer (at least 21 random characters, about 125 bits) cannot be guessed.
 */
const KEY_CHARS_REDACTED = Math.ceil(RANDOM_LENGTH / 2);
// A key of the project's grammar (any vendor, either type and environment), or 64 hex digits (a SHA-256).
const SECRET_LIKE = new RegExp(`${anyKeyPatternSource(KEY_CHARS_REDACTED)}|\\b[0-9a-fA-F]{64}\\b`, "g");

const COUNT_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** A counts object as written: only well-formed names and finite numbers, so it can carry nothing else. */
function cleanCounts(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counts).filter(([name, n]) => COUNT_NAME.test(name) && typeof n === "number" && Number.isFinite(n)),
  );
}

function clean(value: unknown): string | number | boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number" || typeof value === "boolean") return value;
  return String(value).slice(0, MAX_LOG_VALUE_LENGTH).replace(SECRET_LIKE, "[redacted]");
}

/**
 * The line `log` writes, without writing it (tests and callers that batch use it).
 * @example formatLogLine("warn", "key_cache.read_failed", { degraded: "kv_unavailable" })
 */
export function formatLogLine(level: LogLevel, msg: string, fields: LogFields = {}): string {
  const line: Record<string, string | number | boolean | Record<string, number>> = { level, msg: clean(msg) as string };
  for (const [name, value] of Object.entries(fields)) {
    if (name === "counts") {
      if (value && typeof value === "object") line[name] = cleanCounts(value as Record<string, number>);
      continue;
    }
    const v = clean(value);
    if (v !== undefined) line[name] = v;
  }
  return JSON.stringify(line)
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** Where finished lines go. */
export type LogSink = (level: LogLevel, line: string) => void;

/** The console, at the line's level: what Workers Logs and `wrangler tail` read. */
const consoleSink: LogSink = (level, line) => {
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
};

let sink: LogSink = consoleSink;

/**
 * Sends this isolate's lines to `next` instead of the console; null restores the console. Tests only: they
 * capture the lines to assert them (and to check that none holds a key) instead of printing them.
 * @example setLogSink((level, line) => captured.push(line));
 */
export function setLogSink(next: LogSink | null): void {
  sink = next ?? consoleSink;
}

/**
 * Writes one structured line at `level`.
 * @example log("error", "verify.key_object_failed", { request_id, degraded: "key_object_unavailable" });
 */
export function log(level: LogLevel, msg: string, fields: LogFields = {}): void {
  sink(level, formatLogLine(level, msg, fields));
}

/**
 * Refusal lines written per isolate per second; past it, refusals are counted, not written, and the count
 * goes out in one `refused.suppressed` line (with a count per code) with the first refusal of a later second. A
 * flood of bad keys must not become a flood of log lines: writing one line per refusal took a third of the
 * gateway's refusal throughput (`npm run bench`), and log volume is billed.
 */
export const REFUSAL_LOG_LINES_PER_SECOND = 100;

let refusalSecond = 0;
let refusalLines = 0;
const suppressedRefusals = new Map<string, number>();

/**
 * Logs one refusal as a `refused` line, within REFUSAL_LOG_LINES_PER_SECOND.
 * @example logRefusal("info", { request_id, method, status: 401, code: "invalid_key" });
 */
export function logRefusal(level: "info" | "warn", fields: LogFields & { code: string }, now = clock.now()): void {
  const second = epochSeconds(now);
  if (second !== refusalSecond) {
    if (suppressedRefusals.size > 0) {
      const count = [...suppressedRefusals.values()].reduce((a, b) => a + b, 0);
      log("warn", "refused.suppressed", { count, counts: Object.fromEntries(suppressedRefusals) });
      suppressedRefusals.clear();
    }
    refusalSecond = second;
    refusalLines = 0;
  }
  if (refusalLines < REFUSAL_LOG_LINES_PER_SECOND) {
    refusalLines++;
    log(level, "refused", fields);
  } else {
    suppressedRefusals.set(fields.code, (suppressedRefusals.get(fields.code) ?? 0) + 1);
  }
}
