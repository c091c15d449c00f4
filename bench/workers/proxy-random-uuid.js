// Primitive floor: the pass-through proxy plus one crypto.randomUUID() per request (the gateway's request id).
// Kept in a module variable, so the result is not work thrown away.
let last = "";
export default {
  fetch(request, env) {
    last = crypto.randomUUID();
    return env.ORIGIN.fetch(request);
  },
};
