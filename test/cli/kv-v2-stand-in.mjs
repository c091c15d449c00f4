// A local stand-in for the HTTP API of Vault's KV secrets engine, version 2, for the Vault CLI tests: the three
// endpoints the CLI uses, as HashiCorp documents them (developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2).
// No Vault binary or container is reachable from these machines; integrations/vault/README.md says what to
// check once against a real Vault.
//
//   GET  /v1/<mount>/data/<path>       200 { data: { data, metadata: { version, … } } }; 404 { errors: [] }
//   POST /v1/<mount>/data/<path>       { options: { cas }, data } → 200 { data: { version, … } };
//                                      400 { errors: ["check-and-set parameter did not match the current version"] }
//   GET  /v1/<mount>/metadata/<path>   200 { data: { current_version, versions, … } }; 404 { errors: [] }
//
// Tokens are checked (403 { errors: ["permission denied"] }) per namespace, as Vault Enterprise scopes a token
// to the namespace it was made in: a token sent without its X-Vault-Namespace is refused.
import { createServer } from "node:http";

const json = (res, status, body) => {
  if (body === null) {
    res.writeHead(status);
    return res.end();
  }
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
};

/**
 * Starts the stand-in on a free loopback port. `token` is valid in `namespace` (null: the root namespace)
 * for the mounts listed (`v1Mounts`: KV version 1 mounts, whose writes answer 204 and ignore `cas`). Resolves with its address, every request's method, path, headers and body (`requests`),
 * the stored secrets (`secret(mount, path)`), `put` (a write by someone else), `after` (run a function once
 * right after answering the next request of a kind, as a concurrent writer would) and `stop`.
 * @example const vault = await startKvStandIn({ token: "t", mounts: ["kv"] });
 */
export async function startKvStandIn({ token, namespace = null, mounts = ["kv"], v1Mounts = [] }) {
  /** `${namespace}\0${mount}\0${path}` → { versions: [{ data, created_time }], created_time, updated_time }. */
  const secrets = new Map();
  const requests = [];
  const hooks = [];
  let down = false;

  const entryKey = (ns, mount, path) => `${ns ?? ""}\0${mount}\0${path}`;

  function write(ns, mount, path, data, cas) {
    const key = entryKey(ns, mount, path);
    const entry = secrets.get(key);
    const current = entry?.versions.length ?? 0;
    if (cas !== undefined && cas !== current)
      return { status: 400, body: { errors: ["check-and-set parameter did not match the current version"] } };
    const now = new Date().toISOString();
    const next = entry ?? { versions: [], created_time: now, updated_time: now };
    next.versions.push({ data, created_time: now });
    next.updated_time = now;
    secrets.set(key, next);
    const version = next.versions.length;
    return {
      status: 200,
      body: {
        request_id: crypto.randomUUID(),
        lease_id: "",
        renewable: false,
        lease_duration: 0,
        data: { created_time: now, custom_metadata: null, deletion_time: "", destroyed: false, version },
        wrap_info: null,
        warnings: null,
        auth: null,
      },
    };
  }

  function answer(req, body) {
    const url = new URL(req.url, "http://vault.local");
    const ns = req.headers["x-vault-namespace"] ?? null;
    if (req.headers["x-vault-token"] !== token || ns !== namespace)
      return { status: 403, body: { errors: ["permission denied"] } };
    const match = /^\/v1\/(.+?)\/(data|metadata)\/(.+)$/.exec(decodeURIComponent(url.pathname));
    if (!match || ![...mounts, ...v1Mounts].includes(match[1]))
      return {
        status: 404,
        body: { errors: [`no handler for route "${url.pathname.slice(4)}". route entry not found.`] },
      };
    const [, mount, kind, path] = match;
    const entry = secrets.get(entryKey(ns, mount, path));
    if (kind === "metadata" && req.method === "GET") {
      if (!entry) return { status: 404, body: { errors: [] } };
      const versions = Object.fromEntries(
        entry.versions.map((v, i) => [
          String(i + 1),
          { created_time: v.created_time, deletion_time: "", destroyed: false },
        ]),
      );
      return {
        status: 200,
        body: {
          data: {
            cas_required: false,
            created_time: entry.created_time,
            current_version: entry.versions.length,
            custom_metadata: null,
            delete_version_after: "0s",
            max_versions: 0,
            oldest_version: 0,
            updated_time: entry.updated_time,
            versions,
          },
        },
      };
    }
    if (kind === "data" && req.method === "GET") {
      if (!entry) return { status: 404, body: { errors: [] } };
      const latest = entry.versions.at(-1);
      const metadata = {
        created_time: latest.created_time,
        custom_metadata: null,
        deletion_time: "",
        destroyed: false,
        version: entry.versions.length,
      };
      return { status: 200, body: { data: { data: latest.data, metadata } } };
    }
    if (kind === "data" && (req.method === "POST" || req.method === "PUT")) {
      let parsed;
      try {
        parsed = JSON.parse(body);
      } catch {
        return { status: 400, body: { errors: ["failed to parse JSON input"] } };
      }
      if (!parsed?.data || typeof parsed.data !== "object")
        return { status: 400, body: { errors: ["no data provided"] } };
      if (v1Mounts.includes(mount)) {
        write(ns, mount, path, parsed.data, undefined);
        return { status: 204, body: null };
      }
      return write(ns, mount, path, parsed.data, parsed.options?.cas);
    }
    return { status: 405, body: { errors: ["unsupported operation"] } };
  }

  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      requests.push({ method: req.method, path: req.url, headers: { ...req.headers }, body });
      if (down) return json(res, 503, { errors: ["Vault is sealed"] });
      const { status, body: answerBody } = answer(req, body);
      json(res, status, answerBody);
      const kind = /\/metadata\//.test(req.url) ? "metadata" : req.method === "GET" ? "read" : "write";
      const hook = hooks.findIndex((h) => h.kind === kind);
      if (hook >= 0) hooks.splice(hook, 1)[0].run();
    });
  });
  await new Promise((res) => server.listen(0, "127.0.0.1", res));
  return {
    addr: `http://127.0.0.1:${server.address().port}`,
    requests,
    /** The latest data stored at a path, or undefined. */
    secret: (mount, path) => secrets.get(entryKey(namespace, mount, path))?.versions.at(-1)?.data,
    /** A write by another client, without check-and-set. */
    put: (mount, path, data) => write(namespace, mount, path, data, undefined),
    /** Runs `run` once, right after answering the next request of this kind ("metadata", "read" or "write"). */
    after: (kind, run) => hooks.push({ kind, run }),
    /** Answers every request 503 (a sealed Vault) from now on, or again normally. */
    setDown: (value) => {
      down = value;
    },
    stop: () => new Promise((res) => server.close(res)),
  };
}
