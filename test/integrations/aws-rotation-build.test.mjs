// `npm run build:aws-rotation` (scripts/build-aws-rotation.mjs): the zip holds one bundled ES module that
// runs on Node alone, the AWS SDK inside it, and exports the handler Lambda is configured with.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, it } from "node:test";
import { unzipSync } from "fflate";
import { runScript } from "../cli/dev-server.mjs";

const dir = mkdtempSync(join(tmpdir(), "aws-rotation-build-"));
after(() => rmSync(dir, { recursive: true, force: true }));

it("builds a zip of index.mjs whose handler runs without node_modules", async () => {
  const out = join(dir, "function.zip");
  const { code, stdout } = await runScript("build-aws-rotation.mjs", ["--out", out]);
  assert.equal(code, 0);
  assert.match(stdout, /handler index\.handler/);
  const files = unzipSync(new Uint8Array(readFileSync(out)));
  assert.deepEqual(Object.keys(files), ["index.mjs"]);
  // Outside the project, so nothing resolves from its node_modules: the SDK must be in the bundle.
  const unpacked = join(dir, "index.mjs");
  writeFileSync(unpacked, files["index.mjs"]);
  const { handler } = await import(pathToFileURL(unpacked).href);
  assert.equal(typeof handler, "function");
  const saved = process.env.AUTHORIZER_URL;
  delete process.env.AUTHORIZER_URL;
  try {
    await assert.rejects(handler({}), /AUTHORIZER_URL is not set/);
  } finally {
    if (saved !== undefined) process.env.AUTHORIZER_URL = saved;
  }
});
