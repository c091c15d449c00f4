// Primitive floor: the pass-through proxy plus one crypto.randomUUID() per request (the gateway's request id).
// Kept in a module variable (and read by nothing), so the result is not work thrown away.
// biome-ignore lint/correctness/noUnusedVariables: written on purpose, see above
let last = "";
export default {
  fetch(request, env) {
    last = crypto.randomUUID();
    return env.ORIGIN.fetch(request);
  },
};
