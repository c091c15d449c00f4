// What usage per consumer costs at 10,000 keys, in D1 rows read (what D1 bills and bounds) and local time:
// joining api_keys.owner_id at read time against the consumer rollups the flush writes (migration 0005).
// `node bench/consumer-usage-cost.mjs [one|many]`: one consumer holding every key, or 1,000 consumers of 10
// keys. Every key has decisions on each of 30 days (2 outcomes) and in each of the last 168 hours, the
// worst case for a read; the rollups are made by the migration's own backfill. Results: docs/monitoring.md.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { unstable_splitSqlQuery } from "wrangler";
import { ROOT } from "./runtime.mjs";

const KEYS = 10_000;
const DAYS = 30;
const HOURS = 168;
const DAY = 86_400_000;
const HOUR = 3_600_000;
const shape = process.argv[2] ?? "one";
if (shape !== "one" && shape !== "many") throw new Error("usage: node bench/consumer-usage-cost.mjs [one|many]");

const mf = new Miniflare(
  convertV4MiniflareOptions({
    workers: [
      {
        name: "cost",
        modules: true,
        script: "export default { fetch() { return new Response(null, { status: 204 }); } }",
        d1Databases: ["DB"],
        compatibilityDate: "2026-11-01",
      },
    ],
  }),
);
const db = await mf.getD1Database("DB", "cost");
const migrations = readdirSync(join(ROOT, "migrations"))
  .filter((f) => f.endsWith(".sql"))
  .sort();
const [consumerMigration] = migrations.filter((f) => f.startsWith("0005"));
const apply = async (file) =>
  db.batch(unstable_splitSqlQuery(readFileSync(join(ROOT, "migrations", file), "utf8")).map((s) => db.prepare(s)));
for (const file of migrations.filter((f) => f < consumerMigration)) await apply(file);

const now = Date.UTC(2026, 10, 30, 12, 30);
const hour = now - (now % HOUR);
const owner = shape === "one" ? "'big'" : "printf('c%04d', i / 10)";
await db
  .prepare(
    `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${KEYS - 1})
     INSERT INTO api_keys (id, key_hash, prefix, hint, type, environment, owner_id, status, created_at, expires_at, lineage_id)
     SELECT printf('key_%022d', i), printf('%064d', i), 'sk_live_', 'abcd', 'secret', 'live', ${owner}, 'active', 0,
            ${now + 365 * DAY}, printf('key_%022d', i) FROM n`,
  )
  .run();
// One statement per day and per hour: one statement over all of them is more than local D1 will take.
for (let d = 0; d < DAYS; d++) {
  await db
    .prepare(
      `INSERT INTO usage_daily (day, key_id, outcome, count)
       SELECT strftime('%Y-%m-%d', ${(now - d * DAY) / 1000}, 'unixepoch'), k.id, o.outcome, 10
       FROM api_keys k, (SELECT 'valid' AS outcome UNION ALL SELECT 'rate_limited') o`,
    )
    .run();
}
for (let h = 1; h <= HOURS; h++) {
  await db
    .prepare(
      `INSERT INTO usage_hourly (hour, key_id, outcome, count) SELECT ${hour - h * HOUR}, id, 'valid', 5 FROM api_keys`,
    )
    .run();
}
const t = performance.now();
await apply(consumerMigration);
console.log(`${shape}: migration ${consumerMigration} (the backfill) took ${Math.round(performance.now() - t)} ms`);

const from = new Date(now - (DAYS - 1) * DAY).toISOString().slice(0, 10);
const to = new Date(now).toISOString().slice(0, 10);
const consumer = shape === "one" ? "big" : "c0500";
const ofConsumer = "SELECT id FROM api_keys WHERE owner_id = ?1";
// Each pair: the read at read time (joining the keys' owner) and the read the code does (src/monitoring/).
const reads = [
  [
    "a consumer's 30 days (GET /consumers/{id}/usage)",
    `SELECT day, outcome, SUM(count) FROM usage_daily WHERE key_id IN (${ofConsumer}) AND day >= ?2 AND day <= ?3 GROUP BY day, outcome`,
    "SELECT day, outcome, count FROM usage_consumer_daily WHERE consumer_id = ?1 AND day >= ?2 AND day <= ?3",
    [consumer, from, to],
  ],
  [
    "a page of 20 consumers, 30 days (group_by=consumer)",
    `SELECT k.owner_id, u.day, u.outcome, SUM(u.count) FROM usage_daily u JOIN api_keys k ON k.id = u.key_id
     WHERE u.day >= ?1 AND u.day <= ?2 AND k.owner_id IN (SELECT DISTINCT owner_id FROM api_keys WHERE owner_id > ?3 ORDER BY owner_id LIMIT 21)
     GROUP BY 1, 2, 3`,
    `SELECT consumer_id, day, outcome, count FROM usage_consumer_daily WHERE consumer_id IN (
       SELECT consumer_id FROM usage_consumer_daily WHERE consumer_id > ?3 AND +day >= ?1 AND +day <= ?2
       GROUP BY consumer_id ORDER BY consumer_id LIMIT 21) AND +day >= ?1 AND +day <= ?2`,
    [from, to, ""],
  ],
  [
    "top 10 consumers, last 24 h (the report)",
    `SELECT k.owner_id, SUM(u.count) AS n FROM usage_hourly u JOIN api_keys k ON k.id = u.key_id WHERE u.hour > ?1
     GROUP BY 1 ORDER BY n DESC LIMIT 10`,
    `SELECT consumer_id, SUM(count) AS n FROM usage_consumer_hourly INDEXED BY usage_consumer_hourly_hour
     WHERE hour > ?1 GROUP BY 1 ORDER BY n DESC LIMIT 10`,
    [hour - 24 * HOUR],
  ],
  [
    "a consumer's baseline, 168 h (each flush, per consumer)",
    `SELECT SUM(count), MIN(hour) FROM usage_hourly WHERE key_id IN (${ofConsumer}) AND outcome = 'valid' AND hour >= ?2 AND hour < ?3`,
    "SELECT SUM(count), MIN(hour) FROM usage_consumer_hourly WHERE consumer_id = ?1 AND outcome = 'valid' AND hour >= ?2 AND hour <= ?3",
    [consumer, hour - HOURS * HOUR, hour],
  ],
];

/** Rows read and the median of 5 local runs. */
async function measure(sql, params) {
  const times = [];
  let rowsRead = 0;
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    const { meta } = await db
      .prepare(sql)
      .bind(...params)
      .all();
    times.push(performance.now() - start);
    rowsRead = meta.rows_read;
  }
  return { rows_read: rowsRead, median_ms: Math.round(times.sort((a, b) => a - b)[2]) };
}

for (const [name, joined, rolledUp, params] of reads) {
  const [a, b] = [await measure(joined, params), await measure(rolledUp, params)];
  console.log(
    `${shape}: ${name}: join ${a.rows_read} rows, ${a.median_ms} ms; rollup ${b.rows_read} rows, ${b.median_ms} ms`,
  );
}

// The flush's share: a full batch (500 key × hour × outcome rows) added to the consumer rollup, its owners
// known (the flush reads them once, for the alert rules as well).
const batch = Array.from({ length: 500 }, (_, i) => [
  hour,
  shape === "one" ? "big" : `c${String(i).padStart(4, "0")}`,
  "valid",
  3,
]);
const written = await db
  .prepare(
    `INSERT INTO usage_consumer_hourly (hour, consumer_id, outcome, count)
     SELECT value ->> 0, value ->> 1, value ->> 2, SUM(value ->> 3) FROM json_each(?) WHERE true GROUP BY 1, 2, 3
     ON CONFLICT (consumer_id, hour, outcome) DO UPDATE SET count = usage_consumer_hourly.count + excluded.count`,
  )
  .bind(JSON.stringify(batch))
  .run();
console.log(`${shape}: a full batch into the consumer hourly rollup: ${written.meta.rows_written} rows written`);
await mf.dispose();
