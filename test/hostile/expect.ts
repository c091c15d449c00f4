/** What every hostile-input test asserts about a refusal: its status and code, and nothing leaked in it. */
import { expect } from "vitest";
import { problemOf } from "../helpers";

/** SQL, D1 and stack-trace fragments that must never appear in a response. */
const INTERNALS = /SELECT|INSERT|UPDATE |DELETE FROM|sqlite|D1_|api_keys|audit_log|\bat [\w.<>]+ \(|\.ts:\d+|Error:/i;

/**
 * The response is the documented problem: this status and code, as problem+json, holding none of the given
 * secrets (keys, hashes, tokens, the hostile input itself) and no SQL or stack.
 */
export async function expectRefusal(res: Response, status: number, code: string, secrets: readonly string[] = []) {
  const text = await res.clone().text();
  expect(res.status, text.slice(0, 200)).toBe(status);
  expect((await problemOf(res.clone())).code).toBe(code);
  expect(text).not.toMatch(INTERNALS);
  for (const secret of secrets) if (secret.length >= 4) expect(text).not.toContain(secret);
}
