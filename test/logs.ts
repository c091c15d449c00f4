/**
 * The authorizer's log lines in tests. test/setup.ts sends them here (setLogSink) instead of the console,
 * so a green run prints nothing; a test asserts the lines it is about with `capturingLogs`, and every line
 * is checked for keys (test/key-guard.ts) after each test. A failed test prints the lines it logged.
 */
import { setLogSink } from "../src/util/log";

/** A structured line as `log` writes it. */
export interface LogLine {
  level: string;
  msg: string;
  request_id?: string;
  key_id?: string;
  code?: string;
  degraded?: string;
  setting?: string;
  [field: string]: unknown;
}

/** Every line logged since the current test started (or, between tests, since the last one ended). */
let lines: string[] = [];
/** How many of `lines` the key guard has seen. */
let checked = 0;

/** Captures this isolate's log lines from now on (test/setup.ts, once per file). */
export function captureLogs(): void {
  setLogSink((_level, line) => {
    lines.push(line);
  });
}

/** The lines not yet given to the key guard; marks them as given. */
export function uncheckedLines(): string[] {
  const fresh = lines.slice(checked);
  checked = lines.length;
  return fresh;
}

/** The lines logged since the current test started. */
export function currentLines(): readonly string[] {
  return lines;
}

/** Starts a test's lines afresh (after the guard has seen the earlier ones). */
export function startTestLines(): void {
  lines = [];
  checked = 0;
}

/** The structured lines among `raw`. */
export function parseLines(raw: readonly string[]): LogLine[] {
  return raw.flatMap((line) => {
    try {
      const value = JSON.parse(line) as LogLine;
      return typeof value === "object" && value !== null && typeof value.msg === "string" ? [value] : [];
    } catch {
      return [];
    }
  });
}

/**
 * What the Worker logs while `run` runs: every line, and the structured ones parsed. Background work that
 * `run` waits for (callWith, waitOnExecutionContext) is included; work still running after it is not.
 * @example const { result, logs } = await capturingLogs(() => call("/api/v1/x"));
 */
export async function capturingLogs<T>(
  run: () => Promise<T>,
): Promise<{ result: T; lines: string[]; logs: LogLine[] }> {
  const start = lines.length;
  const result = await run();
  const during = lines.slice(start);
  return { result, lines: during, logs: parseLines(during) };
}
