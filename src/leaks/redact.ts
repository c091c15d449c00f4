/**
 * Keeping keys out of what the leak routes store and answer: any string of the key grammar (under any vendor
 * part) is cut to its prefix and last four characters, the form the scanner prints.
 */
import { ANY_KEY_PREFIX_SOURCE, anyKeyPatternSource } from "../keys/format";

const KEY_SHAPED = new RegExp(anyKeyPatternSource(), "g");
const KEY_PREFIX = new RegExp(`^${ANY_KEY_PREFIX_SOURCE}`);

/** The longest location kept for an event. */
const MAX_LOCATION_LENGTH = 1024;

/** `sk_live_…AbCd`: the prefix and the last four characters. */
function redactKey(key: string): string {
  const prefix = KEY_PREFIX.exec(key)?.[0] ?? "";
  return `${prefix}…${key.slice(-4)}`;
}

/** The text with every key-shaped string redacted and control characters dropped, bounded in length. */
export function safeText(text: string, maxLength = MAX_LOCATION_LENGTH): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(KEY_SHAPED, redactKey).replace(/[\u0000-\u001f\u007f-\u009f]/g, "");
  return clean.length > maxLength ? `${clean.slice(0, maxLength - 1)}…` : clean;
}
