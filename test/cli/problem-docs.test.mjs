// Every refusal is a documented code: each code of the problem table (src/http/problem.ts) has its row, with
// its status, in the gateway contract's refusal table (docs/gateway.md), and the table names no code that
// does not exist.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT } from "./dev-server.mjs";

test("every problem code has a row with its status in docs/gateway.md, and no row names an unknown code", () => {
  const source = readFileSync(join(ROOT, "src/http/problem.ts"), "utf8");
  const codes = new Map([...source.matchAll(/^ {2}(\w+): \{ status: (\d{3}),/gm)].map((m) => [m[1], m[2]]));
  assert.ok(codes.size > 30, `read ${codes.size} codes`);
  const docs = readFileSync(join(ROOT, "docs/gateway.md"), "utf8");
  const rows = [...docs.matchAll(/^\| `(\w+)` \| (\d{3}) \|/gm)].map((m) => [m[1], m[2]]);
  for (const [code, status] of codes) {
    assert.ok(
      rows.some(([c, s]) => c === code && s === status),
      `${code} (${status}) has no row in docs/gateway.md`,
    );
  }
  for (const [code] of rows) assert.ok(codes.has(code), `docs/gateway.md names ${code}, which is no problem code`);
});
