// The benchmark's scenarios, as data. Each one has a name (or a function of the run's sizes answering one),
// and says how requests reach the authorizer (`via`), which floor
// its ratio is taken against, the one status every response must have, and where its keys come from.
//
//   via     "gateway": GET /api/v1/x on the authorizer, forwarded to the no-op origin when allowed;
//           "rpc": GET on the caller Worker, which calls env.AUTH.verify({ key, method, path });
//           "throttled": the same as "gateway", on a second instance of the authorizer with the refusal
//           throttle on (every request comes from one client address, CF-Connecting-IP).
//   floor   "proxy": pass-through Worker to the same no-op origin (for requests the gateway forwards);
//           "noop": a Worker that answers 200 at once (for refusals, which never reach the origin);
//           "rpc": the same caller Worker calling a no-op RPC entrypoint.
//   keys    async (ctx) => a list of keys (used round-robin) or a function answering a key per request.
//           ctx.mint(n, settings?) mints n keys through the admin API: [{ key, id }]; ctx.use(key) sends one
//           request with it; ctx.revoke(id); ctx.shared(name, fn) runs fn once per run and answers its result
//           to every caller; ctx.size has the run's sizes. Called once: the timing and the counting passes
//           share the same storage, so the same keys serve both.
//   once    every key is used at most once, across both passes: keys(ctx) is called once per pass, with
//           ctx.count fresh keys wanted, and the run ends when they are used up.
//   prime   send every key once before the warm-up, so that KV holds them all.
//
// Adding a scenario is one more entry, e.g. a key over its rate limit:
//   { name: "key over its rate limit", via: "gateway", floor: "noop", expect: 429,
//     keys: async ({ mint }) => (await mint(1, { rate_limits: [{ name: "hour", limit: 10, window_seconds: 3600 }] })).map((k) => k.key) },
import { badChecksumKey, unknownKey } from "./keys.mjs";

/** Keys the harness mints carry a limit no run can reach, so that limits never decide a valid-key scenario. */
export const UNREACHABLE_LIMITS = { rate_limits: [{ name: "hour", limit: 1_000_000_000, window_seconds: 3600 }] };

/** One key, used once so every cache layer has seen it. */
async function warmKey({ mint, use }) {
  const [k] = await mint(1);
  await use(k.key);
  return k;
}

/** The one warm key both "valid key, warm caches" scenarios use. */
const hotKey = async (ctx) => (await ctx.shared("hot key", () => warmKey(ctx))).key;

export const SCENARIOS = [
  {
    name: "gateway: valid key, warm caches",
    via: "gateway",
    floor: "proxy",
    expect: 200,
    keys: async (ctx) => [await hotKey(ctx)],
  },
  {
    name: "RPC verify: valid key, warm caches",
    via: "rpc",
    floor: "rpc",
    expect: 200,
    keys: async (ctx) => [await hotKey(ctx)],
  },
  {
    name: "gateway: valid key, first use (cold caches)",
    via: "gateway",
    floor: "proxy",
    expect: 200,
    once: true,
    keys: async ({ mint, count }) => (await mint(count)).map((k) => k.key),
  },
  {
    name: "malformed key (bad checksum)",
    via: "gateway",
    floor: "noop",
    expect: 401,
    keys: async () => badChecksumKey,
  },
  {
    name: "unknown well-formed keys, each distinct",
    via: "gateway",
    floor: "noop",
    expect: 401,
    keys: async () => unknownKey,
  },
  {
    name: "unknown well-formed keys, each distinct, refusal throttle on",
    via: "throttled",
    floor: "noop",
    // The warm-up spends the client's REFUSAL_THROTTLE_LIMIT refusals; from then on it is refused unread.
    expect: 429,
    keys: async () => unknownKey,
  },
  {
    name: "revoked key",
    via: "gateway",
    floor: "noop",
    expect: 401,
    keys: async (ctx) => {
      const { key, id } = await warmKey(ctx);
      await ctx.revoke(id);
      return [key];
    },
  },
  {
    name: ({ manyKeys }) => `${manyKeys.toLocaleString("en")} distinct valid keys, rotated`,
    via: "gateway",
    floor: "proxy",
    expect: 200,
    prime: true,
    keys: async ({ mint, size }) => (await mint(size.manyKeys)).map((k) => k.key),
  },
];
