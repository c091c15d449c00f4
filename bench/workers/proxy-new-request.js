// Primitive floor: the pass-through proxy plus a new Request with copied headers, as the gateway builds the
// forwarded request (headers copied into a plain object, then a Request made from it).
export default {
  fetch(request, env) {
    const headers = {};
    for (const [name, value] of request.headers) headers[name] = value;
    return env.ORIGIN.fetch(
      new Request(request.url, { method: request.method, headers, body: request.body, redirect: "manual" }),
    );
  },
};
