#!/usr/bin/env node
// `npm run build:aws-rotation -- [--out <file>]`: the AWS Secrets Manager rotation function as the zip to
// upload (integrations/aws-secrets-manager/README.md): one ES module, index.mjs, bundled by esbuild with the
// AWS SDK inside it (the version the tests ran, not whichever the Lambda runtime ships), zipped with fflate.
// Default output: dist/aws-secrets-manager-rotation.zip.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { zipSync } from "fflate";
import { runIfScript } from "./cli.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const ENTRY = resolve(ROOT, "integrations/aws-secrets-manager/index.mjs");
export const DEFAULT_OUT = resolve(ROOT, "dist/aws-secrets-manager-rotation.zip");
/** A fixed time for every zip entry, so the same source gives the same zip. */
const ENTRY_TIME = new Date("2020-01-01T00:00:00Z");

/** Bundles the function; answers the zip's bytes and the bundle's size. */
export async function buildRotationZip() {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: "node",
    target: "node22",
    format: "esm",
    minify: true,
    write: false,
    legalComments: "none",
    // The SDK's CommonJS parts call require() for Node's built-ins: give the ES module one.
    banner: { js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);' },
    logLevel: "silent",
  });
  const bundle = result.outputFiles[0].contents;
  const zip = zipSync({ "index.mjs": [bundle, { level: 9, mtime: ENTRY_TIME }] });
  return { zip, bundleBytes: bundle.byteLength };
}

async function main(argv) {
  const { values } = parseArgs({ args: argv, options: { out: { type: "string" } } });
  const out = resolve(values.out ?? DEFAULT_OUT);
  const { zip, bundleBytes } = await buildRotationZip();
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, zip);
  console.log(`${out}: ${zip.byteLength} bytes (index.mjs, ${bundleBytes} bytes unzipped); handler index.handler`);
}

runIfScript(import.meta.filename, main);
