-- Monitoring: usage rollups, networks seen per key, anomaly alerts, and what the scheduled job has done.
-- Written in batches by the isolates' monitoring flush (src/monitoring/flush.ts) and by the Cron Trigger
-- (src/monitoring/scheduled.ts); never once per request. Times are Unix epoch milliseconds.

-- Decisions per UTC day, key and outcome ('valid' or a problem code). key_id is '' for refusals with no
-- known key (invalid_key, missing_api_key, a throttled client). Kept USAGE_RETENTION_DAYS.
CREATE TABLE usage_daily (
  day      TEXT NOT NULL,                          -- 'YYYY-MM-DD' (UTC)
  key_id   TEXT NOT NULL,
  outcome  TEXT NOT NULL,
  count    INTEGER NOT NULL,
  PRIMARY KEY (key_id, day, outcome)
) WITHOUT ROWID;
CREATE INDEX usage_daily_day ON usage_daily (day);

-- The same counts per UTC hour, for the anomaly rules (baseline, bursts). Kept HOURLY_RETENTION_DAYS.
CREATE TABLE usage_hourly (
  hour     INTEGER NOT NULL,                       -- start of the hour, epoch ms
  key_id   TEXT NOT NULL,
  outcome  TEXT NOT NULL,
  count    INTEGER NOT NULL,
  PRIMARY KEY (key_id, hour, outcome)
) WITHOUT ROWID;
CREATE INDEX usage_hourly_hour ON usage_hourly (hour);

-- Networks a key was used from: 'ip:<IPv4 /24 or IPv6 /48>', 'asn:<number>', 'country:<ISO code>'.
-- Pruned when last seen more than NETWORK_HISTORY_DAYS ago.
CREATE TABLE key_networks (
  key_id      TEXT NOT NULL,
  network     TEXT NOT NULL,
  first_seen  INTEGER NOT NULL,
  last_seen   INTEGER NOT NULL,
  PRIMARY KEY (key_id, network)
) WITHOUT ROWID;

-- One row per incident: a rule firing again for the same key within the dedupe window updates the row
-- (occurrences, last_seen_at, details) instead of opening another.
CREATE TABLE alerts (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  rule          TEXT NOT NULL,                     -- new_network, traffic_spike, refusal_burst, revoked_key_use
  key_id        TEXT NOT NULL,
  owner_id      TEXT NOT NULL,
  opened_at     INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  occurrences   INTEGER NOT NULL DEFAULT 1,
  details       TEXT NOT NULL DEFAULT '{}'          -- JSON: what tripped the rule; never a key, hash or full address
);
CREATE INDEX alerts_rule_key ON alerts (rule, key_id, last_seen_at);
CREATE INDEX alerts_last_seen ON alerts (last_seen_at);

-- What the scheduled job did to a key, once each: 'expiry_notice' (owner told the key expires within 30
-- days), 'expired' (past expires_at), 'grace_ended' (a rotated key past its grace end).
CREATE TABLE key_lifecycle_marks (
  key_id     TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('expiry_notice', 'expired', 'grace_ended')),
  marked_at  INTEGER NOT NULL,
  at_time    INTEGER NOT NULL,                     -- the expires_at or grace_until the mark is about
  PRIMARY KEY (key_id, kind)
) WITHOUT ROWID;

-- The scheduled job looks keys up by expiry (notices, marks) every run.
CREATE INDEX api_keys_expires ON api_keys (expires_at);
