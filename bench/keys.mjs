// Test data for the benchmark: key strings the authorizer never minted, made with the project's own grammar
// (Node 22 imports src/keys/format.ts directly: it has no imports and only erasable type syntax).
import { generateKey } from "../src/keys/format.ts";

/** A well-formed `sk_live_` key with a correct checksum that nobody minted. */
export const unknownKey = () => generateKey("", "secret", "live");

/** A well-formed key whose last character is changed, so its checksum no longer matches. */
export function badChecksumKey() {
  const key = unknownKey();
  return key.slice(0, -1) + (key.at(-1) === "0" ? "1" : "0");
}
