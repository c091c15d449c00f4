-- Usage per consumer: the counts of usage_daily and usage_hourly rolled up by the key's owner (its consumer)
-- when the isolates' flush writes them (src/monitoring/flush.ts), in the same D1 transaction. Reading a
-- consumer's usage is then a range of its own rows, whatever its number of keys; joining api_keys.owner_id at
-- read time reads every row of every key of the consumer (docs/monitoring.md has the measurements). A key
-- never moves between consumers, so a count attributed at write time stays right. Refusals with no known key
-- (key_id '') belong to no consumer and are not rolled up here. Pruned like the per-key rollups.
CREATE TABLE usage_consumer_daily (
  day          TEXT NOT NULL,                      -- 'YYYY-MM-DD' (UTC)
  consumer_id  TEXT NOT NULL,                      -- the key's owner_id
  outcome      TEXT NOT NULL,
  count        INTEGER NOT NULL,
  PRIMARY KEY (consumer_id, day, outcome)
) WITHOUT ROWID;
CREATE INDEX usage_consumer_daily_day ON usage_consumer_daily (day);

-- Per UTC hour: the consumer_traffic_spike rule (baseline, this hour) and the report's top consumers.
CREATE TABLE usage_consumer_hourly (
  hour         INTEGER NOT NULL,                   -- start of the hour, epoch ms
  consumer_id  TEXT NOT NULL,
  outcome      TEXT NOT NULL,
  count        INTEGER NOT NULL,
  PRIMARY KEY (consumer_id, hour, outcome)
) WITHOUT ROWID;
CREATE INDEX usage_consumer_hourly_hour ON usage_consumer_hourly (hour);

-- What was counted before this migration, attributed the same way: one pass over each per-key rollup.
INSERT INTO usage_consumer_daily (day, consumer_id, outcome, count)
  SELECT u.day, k.owner_id, u.outcome, SUM(u.count) FROM usage_daily u JOIN api_keys k ON k.id = u.key_id
  GROUP BY k.owner_id, u.day, u.outcome;
INSERT INTO usage_consumer_hourly (hour, consumer_id, outcome, count)
  SELECT u.hour, k.owner_id, u.outcome, SUM(u.count) FROM usage_hourly u JOIN api_keys k ON k.id = u.key_id
  GROUP BY k.owner_id, u.hour, u.outcome;
