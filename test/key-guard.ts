/**
 * A key must never reach a log. This finds the lines that hold a string of the key grammar with a valid
 * checksum (under any vendor part). Two places use it, so no line escapes it: test/setup.ts for the
 * authorizer's log lines (captured, never printed) and vitest.config.ts for anything printed to the console.
 */
// With its extension: vitest.config.ts imports this file, and Vite warns on every run about a config whose imports lack one.
import { anyKeyPatternSource, parseKey } from "../src/keys/format.ts";

const KEY_IN_TEXT = new RegExp(anyKeyPatternSource(), "g");

/** The lines of `lines` that hold a valid key, cut to 200 characters. */
export function linesWithKeys(lines: Iterable<string>): string[] {
  const found: string[] = [];
  for (const line of lines) {
    for (const [match] of line.matchAll(KEY_IN_TEXT)) {
      const vendor = /^([a-z][a-z0-9]{1,15})_(?:sk|pk)_/.exec(match)?.[1] ?? "";
      if (parseKey(match, vendor) || parseKey(match, "")) {
        found.push(line.slice(0, 200));
        break;
      }
    }
  }
  return found;
}
