/**
 * A key must never reach a log. This finds the lines that hold a string of the key grammar with a valid
 * checksum (under any vendor part): an API key or a scoped admin credential. Two places use it, so no line
 * escapes it: test/setup.ts for the authorizer's log lines (captured, never printed) and vitest.config.ts for
 * anything printed to the console.
 */
// With its extension: vitest.config.ts imports this file, and Vite warns on every run about a config whose imports lack one.
import { anyKeyPatternSource, parseCredential, parseKey } from "../src/keys/format.ts";

const KEY_IN_TEXT = new RegExp(anyKeyPatternSource(), "g");
/** The vendor part in front of a match, if any: the grammar checks a key under the vendor it names. */
const VENDOR_OF = /^([a-z][a-z0-9]{1,15})_(?:sk_|pk_|ak_)/;

/** Whether `match` (a string of the key grammar's shape) is a key or a credential with a valid checksum. */
function isSecret(match: string): boolean {
  const vendor = VENDOR_OF.exec(match)?.[1] ?? "";
  return [vendor, ""].some((v) => parseKey(match, v) !== null || parseCredential(match, v) !== null);
}

/** The lines of `lines` that hold a valid key or admin credential, cut to 200 characters. */
export function linesWithKeys(lines: Iterable<string>): string[] {
  const found: string[] = [];
  for (const line of lines) {
    for (const [match] of line.matchAll(KEY_IN_TEXT)) {
      if (isSecret(match)) {
        found.push(line.slice(0, 200));
        break;
      }
    }
  }
  return found;
}
