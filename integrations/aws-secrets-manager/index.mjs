// The Lambda entry point (handler "index.handler", Node.js 22 runtime). Settings are read on the first
// invocation, not at import, so a misconfigured function fails its invocations with a message saying which
// setting is wrong (README.md#settings).
import { createRotationHandler } from "./rotation.mjs";

let rotate;

/** @param {{ SecretId: string; ClientRequestToken: string; Step: string }} event */
export const handler = async (event) => {
  rotate ??= createRotationHandler();
  return rotate(event);
};
