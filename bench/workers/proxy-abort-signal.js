// Primitive floor: the pass-through proxy plus an origin deadline as the gateway sets one: an AbortController
// whose signal travels on the forwarded request, a timer that would abort it, cleared when the answer's
// headers arrive. The signal needs a new Request, so compare with the "new Request" floor as well.
export default {
  async fetch(request, env) {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), 30_000);
    try {
      return await env.ORIGIN.fetch(new Request(request, { signal: deadline.signal }));
    } finally {
      clearTimeout(timer);
    }
  },
};
