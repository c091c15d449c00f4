// The served OpenAPI document types a real client: openapi-typescript generates types from
// GET /admin/v1/openapi.json of a running local Worker (`wrangler dev`, throwaway state), `tsc` checks the
// small client in ./openapi-client/ against them (its `@ts-expect-error` lines fail if a success answer
// is typed as a bare object again), and the client then runs against the same Worker.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import openapiTS, { astToString } from "openapi-typescript";
import { ROOT, startDevServer, TEST_ENV } from "./dev-server.mjs";

const TOKEN = `openapi-client-test-${crypto.randomUUID()}`;
const TSC = join(ROOT, "node_modules/.bin/tsc");

let server;
let dir;

before(async () => {
  server = await startDevServer({ ADMIN_TOKEN: TOKEN }, { statePrefix: "authorizer-openapi-" });
  dir = mkdtempSync(join(tmpdir(), "authorizer-openapi-client-"));
});

after(() => {
  server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function servedDocument() {
  const response = await fetch(`${server.base}/admin/v1/openapi.json`, {
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  assert.equal(response.status, 200);
  return response.json();
}

/** The generated types of the served document. */
const generatedTypes = async () => astToString(await openapiTS(await servedDocument(), { silent: true }));

describe("a client generated from the OpenAPI document", () => {
  it("finds the real schema of every success answer in the document", async () => {
    const doc = await servedDocument();
    const successes = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => [
        `${method.toUpperCase()} ${path}`,
        Object.entries(op.responses).find(([status]) => status < "300"),
      ]),
    );
    assert.equal(successes.length, 36); // 35, and POST /portal/sessions
    for (const [name, [, response]] of successes) {
      // The failure this test exists for: a success answer documented as a bare `{ "type": "object" }`. An
      // answer of one of several shapes (GET /usage: totals, or a page of consumers) documents each.
      const schema = response.content["application/json"].schema;
      for (const shape of schema.anyOf ?? [schema]) {
        assert.ok(Object.keys(shape.properties ?? {}).length > 0, `${name} documents no fields`);
        assert.equal(shape.additionalProperties, false, name);
      }
    }
    const types = await generatedTypes();
    assert.match(types, /api_key: string;/);
    assert.match(types, /next_cursor: string \| null;/);
  });

  it("compiles a small client against the generated types, wrong uses refused", async () => {
    writeFileSync(join(dir, "admin-api.ts"), await generatedTypes());
    copyFileSync(join(import.meta.dirname, "openapi-client/client.ts"), join(dir, "client.ts"));
    const tsconfig = {
      compilerOptions: {
        target: "es2022",
        module: "nodenext",
        lib: ["es2022", "dom"],
        types: [],
        strict: true,
        noUncheckedIndexedAccess: true,
        allowImportingTsExtensions: true,
        noEmit: true,
        skipLibCheck: true,
      },
      files: ["client.ts"],
    };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    const tsc = spawnSync(TSC, ["-p", dir], { cwd: dir, env: TEST_ENV, encoding: "utf8" });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);

    // Node strips the types and runs it: the fields the types promise are the ones the Worker answers.
    const run = spawnSync(process.execPath, [join(dir, "client.ts"), server.base, TOKEN], {
      cwd: dir,
      env: TEST_ENV,
      encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stderr);
    const seen = JSON.parse(run.stdout);
    assert.equal(seen.secret, true);
    assert.match(seen.id, /^key_[0-9A-Za-z]{22}$/);
    assert.equal(seen.status, "active");
    assert.equal(seen.listed, seen.id);
    assert.equal(seen.name, "renamed");
    assert.equal(seen.revokedAt, null);
    assert.equal(seen.reason, "openapi client test");
    assert.deepEqual(seen.actions, ["rotate", "update", "create"]);
    assert.equal(seen.noMatch, 1);
    assert.equal(seen.firstStatus, "no_match");
    assert.equal(seen.days, 30);
    assert.equal(seen.keyOfUsage, seen.id);
    assert.equal(seen.hours.length, 6);
    assert.ok(
      seen.hours.every((hour) => /^\d{4}-\d{2}-\d{2}T\d{2}:00:00\.000Z$/.test(hour)),
      seen.hours.join(),
    );
    assert.ok(seen.found.includes(seen.id));
    assert.deepEqual(seen.alertRules, []);
    assert.equal(seen.groupedConsumers, 0); // no decisions yet
    assert.equal(seen.activeKeys, 1); // the rotated key, in its grace period (its successor is revoked)
    assert.ok(seen.controls > 0);
    assert.equal(seen.maxActiveKeys, 2);
    assert.equal(seen.consumerListed, "openapi-consumer");
  });
});
