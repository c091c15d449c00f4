#!/usr/bin/env node
// `npm start`: the authorizer on embedded local state, offline, from a fresh clone.
//   1. creates .dev.vars with a random ADMIN_TOKEN if there is none (git-ignored);
//   2. applies the D1 migrations to the local database under .wrangler/;
//   3. starts a small demo origin on 127.0.0.1:8788 that echoes what it receives (unless .dev.vars names an ORIGIN_URL);
//   4. starts the Worker with `wrangler dev` on http://127.0.0.1:8787, with the web console on /_console (unless
//      .dev.vars sets CONSOLE_PATH or CONSOLE_HOSTNAME), signed in to with the admin token.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..");
const DEV_VARS = resolve(ROOT, ".dev.vars");
const PORT = Number(process.env.PORT ?? 8787);
const ORIGIN_PORT = Number(process.env.DEMO_ORIGIN_PORT ?? 8788);
const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
const wrangler = resolve(ROOT, "node_modules/.bin/wrangler");

if (!existsSync(DEV_VARS)) {
  writeFileSync(DEV_VARS, `ADMIN_TOKEN=${randomBytes(32).toString("base64url")}\n`, { mode: 0o600 });
  console.log(`Created ${DEV_VARS} with a random ADMIN_TOKEN (git-ignored; it never leaves this machine).`);
}
const devVars = Object.fromEntries(
  readFileSync(DEV_VARS, "utf8")
    .split("\n")
    .map((line) => line.match(/^\s*([A-Z0-9_]+)\s*=\s*"?(.*?)"?\s*$/))
    .filter(Boolean)
    .map((m) => [m[1], m[2]]),
);

const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local"], {
  cwd: ROOT,
  env,
  stdio: "inherit",
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const args = ["dev", "--ip", "127.0.0.1", "--port", String(PORT)];
// The console is opt-in in a deployment (it takes a path from the origin); locally it is on.
const consolePath = devVars.CONSOLE_HOSTNAME ? null : (devVars.CONSOLE_PATH ?? "/_console");
if (consolePath && !devVars.CONSOLE_PATH) args.push("--var", `CONSOLE_PATH:${consolePath}`);
let origin = null;
if (!devVars.ORIGIN_URL) {
  origin = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(
        `${JSON.stringify(
          {
            demo_origin: true,
            method: req.method,
            url: req.url,
            headers: req.headers,
            body: Buffer.concat(chunks).toString(),
          },
          null,
          2,
        )}\n`,
      );
    });
  });
  origin.listen(ORIGIN_PORT, "127.0.0.1");
  args.push("--var", `ORIGIN_URL:http://127.0.0.1:${ORIGIN_PORT}`);
  console.log(`Demo origin on http://127.0.0.1:${ORIGIN_PORT} (echoes what the gateway forwards).`);
}

const dev = spawn(wrangler, args, { cwd: ROOT, env, stdio: "inherit" });
if (consolePath) {
  console.log(`\nWeb console: http://127.0.0.1:${PORT}${consolePath}/  (sign in with the ADMIN_TOKEN in .dev.vars)`);
}
console.log(
  `\nMint your first key:  npm run keys -- create --owner me\n  or:  curl -s -X POST http://127.0.0.1:${PORT}/admin/v1/keys -H "Authorization: Bearer $(sed -n 's/^ADMIN_TOKEN=//p' .dev.vars)" -H "Content-Type: application/json" -d '{"owner_id":"me","scopes":["read"]}'\n`,
);

const stop = () => {
  dev.kill("SIGINT");
  origin?.close();
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
dev.on("exit", (code) => {
  origin?.close();
  process.exit(code ?? 0);
});
