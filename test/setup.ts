/**
 * Runs before every test file. One isolate runs the files in turn (vitest.config.ts: `isolate: false`, which
 * spares each file a workerd start), so each file first gets what a fresh isolate would have given it:
 * empty storage, migrated; no usage counted; and a clock with nothing current on it.
 */
import { applyD1Migrations, reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, afterEach, beforeEach, expect } from "vitest";
import { takeBatch } from "../src/monitoring/usage";
import { DAY_MS } from "../src/util/time";
import { installTestClock, testClock } from "./clock";
import { linesWithKeys } from "./key-guard";
import { captureLogs, currentLines, startTestLines, uncheckedLines } from "./logs";

captureLogs();
// A day after the last file (and never behind the real time): every cache entry, rate-limit and throttle
// window, lease and fetched key document an earlier file left in the isolate has lapsed.
testClock.advanceTo(Math.max(testClock.now() + DAY_MS, Date.now()));
installTestClock();
// What an earlier file counted in this isolate is dropped (its storage is about to be reset), and the
// flush interval starts now, as a fresh isolate's does with its first request.
takeBatch(testClock.now());
await reset();
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

/** Fails the current test if a line logged since the last check holds a key. */
function guardLines(when: string): void {
  const leaked = linesWithKeys(uncheckedLines());
  expect(leaked, `log lines holding an API key (${when})`).toEqual([]);
}

beforeEach(({ onTestFailed }) => {
  guardLines("logged between tests");
  startTestLines();
  // A failed test shows what the Worker logged during it (still through the console guard of vitest.config.ts).
  onTestFailed(() => {
    const lines = currentLines();
    if (lines.length > 0) console.log(`${lines.length} log line(s) during the test:\n${lines.join("\n")}`);
  });
});

afterEach(() => {
  installTestClock(); // after a test that switched to the real clock
  guardLines("logged during the test");
});

afterAll(() => guardLines("logged after the file's last test"));
