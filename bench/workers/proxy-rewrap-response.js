// Primitive floor: the pass-through proxy plus the origin's response re-wrapped to add headers, as the
// gateway adds its RateLimit headers (new Response(body, response), then two headers set).
export default {
  async fetch(request, env) {
    const response = await env.ORIGIN.fetch(request);
    const out = new Response(response.body, response);
    out.headers.set("RateLimit-Policy", '"hour";q=1000000;w=3600');
    out.headers.set("RateLimit", '"hour";r=999999;t=3600');
    return out;
  },
};
