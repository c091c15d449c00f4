// What a Worker using `edge-key-authorizer/hono` gets: in its bundle (esbuild, as wrangler builds it) and in
// its type-check (tsc, through package.json's exports), only the middleware and the few leaf modules it
// shares with the gateway; never the verify pipeline, storage, Durable Objects or the authorizer's Env.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { buildHonoCaller } from "../fixtures/build-hono-caller.mjs";

const ROOT = resolve(import.meta.dirname, "../..");

/** The authorizer's modules the middleware may bring along: each a leaf, imported for one definition. */
const SHARED = [
  "integrations/hono/index.ts",
  "src/gateway/refusal.ts",
  "src/http/authorization.ts",
  "src/http/problem.ts",
  "src/http/route-policy.ts",
  "src/keys/format.ts",
  "src/limits/headers.ts",
  "src/verify/credential.ts",
];

/** The most the authorizer's modules may add to a caller's minified bundle, in bytes (about 7.8 KB today). */
const MAX_SHARED_BYTES = 12_000;

const ownFiles = (paths) =>
  paths
    .map((p) => relative(ROOT, resolve(ROOT, p)))
    .filter((p) => !p.startsWith("node_modules/") && !p.startsWith("test/"))
    .sort();

describe("edge-key-authorizer/hono", () => {
  it("adds only the middleware and its shared leaf modules to a caller's bundle", async () => {
    const { metafile } = await buildHonoCaller();
    const [output] = Object.values(metafile.outputs);
    const inputs = Object.entries(output.inputs).filter(([, v]) => v.bytesInOutput > 0);
    const own = ownFiles(inputs.map(([p]) => p));
    assert.deepEqual(own, SHARED);
    const sharedBytes = inputs
      .filter(([p]) => own.includes(ownFiles([p])[0]))
      .reduce((n, [, v]) => n + v.bytesInOutput, 0);
    assert.ok(sharedBytes < MAX_SHARED_BYTES, `the authorizer's modules add ${sharedBytes} bytes`);
  });

  it("type-checks a caller without the authorizer's source or Env", () => {
    const tsc = spawnSync(
      process.execPath,
      [
        resolve(ROOT, "node_modules/typescript/bin/tsc"),
        "-p",
        "test/fixtures/hono-consumer/tsconfig.json",
        "--listFilesOnly",
      ],
      { cwd: ROOT, encoding: "utf8" },
    );
    assert.equal(tsc.status, 0, tsc.stderr);
    const files = ownFiles(tsc.stdout.trim().split("\n"));
    // The types come from the RPC contract, a leaf; the runtime modules are the bundle's.
    assert.deepEqual(files, [...SHARED, "src/http/decision.ts"].sort());
  });
});
