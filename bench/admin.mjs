// Keys for the scenarios, through the authorizer's real admin API: what scenarios' `keys(ctx)` get.
import { UNREACHABLE_LIMITS } from "./scenarios.mjs";

/**
 * Minting (with at most `concurrency` calls in flight), using and revoking keys on the authorizer at `base`.
 * `path` is the gateway path a key is used on; `size` is passed through to the scenarios.
 */
export function keyContext(base, adminToken, { path, concurrency, size, log }) {
  async function admin(route, body) {
    const res = await fetch(`${base}/admin/v1${route}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`POST /admin/v1${route}: ${res.status} ${text}`);
    return JSON.parse(text);
  }
  const memo = new Map();
  return {
    size,
    /** Mints n keys: [{ key, id }]. `settings` go into the create call's body. */
    async mint(n, settings = {}) {
      if (n >= 1_000) log(`minting ${n.toLocaleString("en")} keys through the admin API…`);
      const minted = [];
      let started = 0;
      const worker = async () => {
        while (started < n) {
          started++;
          const { api_key, key } = await admin("/keys", {
            owner_id: "bench",
            scopes: ["read"],
            ...UNREACHABLE_LIMITS,
            ...settings,
          });
          minted.push({ key: api_key, id: key.id });
        }
      };
      await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
      return minted;
    },
    /** One gateway request with the key, which must be allowed. */
    async use(key) {
      const res = await fetch(`${base}${path}`, { headers: { "X-API-Key": key } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`a freshly minted key answered ${res.status}`);
    },
    async revoke(id) {
      await admin(`/keys/${id}/revoke`, {});
    },
    /** Runs `fn` once per run; every caller gets its result. */
    shared(name, fn) {
      if (!memo.has(name)) memo.set(name, fn());
      return memo.get(name);
    },
  };
}
