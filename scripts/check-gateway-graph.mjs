#!/usr/bin/env node
// `npm test`: the gateway's hot path loads no console or portal code. Bundles src/gateway/gateway.ts as wrangler
// would (esbuild) and fails if any module it reaches lives under src/console/ or src/portal/.
import { build } from "esbuild";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..");
const ENTRY = "src/gateway/gateway.ts";
const FORBIDDEN = /^src\/(console|portal)\//;

const { metafile } = await build({
  entryPoints: [resolve(ROOT, ENTRY)],
  absWorkingDir: ROOT,
  bundle: true,
  write: false,
  metafile: true,
  format: "esm",
  platform: "neutral",
  external: ["cloudflare:*", "node:*"],
  logLevel: "silent",
});
const inputs = Object.keys(metafile.inputs);
const reached = inputs.filter((path) => FORBIDDEN.test(path));
if (reached.length > 0) {
  console.error(`${ENTRY} reaches console or portal modules:\n  ${reached.join("\n  ")}`);
  process.exit(1);
}
console.log(
  `${ENTRY}: ${inputs.filter((p) => p.startsWith("src/")).length} modules, none under src/console or src/portal`,
);
