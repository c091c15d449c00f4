-- Retention of keys that can no longer work (src/monitoring/retention.ts, from the Cron Trigger).
-- A lineage (a key and the keys rotated from it) shares one Durable Object. Once none of its keys can work
-- again (each revoked, or past its expiry and grace end), the job clears that object's storage and records
-- it here, with the lineage's last moment of life the clearing was for: a key made to work again (a later
-- expiry) and then ended again is cleared again. A row goes once the lineage's last key row is pruned.
CREATE TABLE cleared_lineages (
  lineage_id  TEXT PRIMARY KEY,
  ended_at    INTEGER NOT NULL,                    -- when the lineage's last key stopped working (epoch ms)
  cleared_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- The job groups keys by lineage, and prunes rows past EXPIRED_KEY_RETENTION_DAYS by lineage.
CREATE INDEX api_keys_lineage ON api_keys (lineage_id);
