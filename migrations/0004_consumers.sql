-- Consumers: the owner of keys as a first-class record (see docs/consumers.md). Every key's owner_id names
-- one; a key never moves between consumers. Shared limits live in the consumer's Durable Object, named by id.
CREATE TABLE consumers (
  id                 TEXT PRIMARY KEY,              -- the owner grammar; ids made before consumers existed may be '.' or '..'
  name               TEXT NOT NULL DEFAULT '',
  metadata           TEXT NOT NULL DEFAULT '{}',
  rate_limits        TEXT NOT NULL DEFAULT '[]',    -- shared by all the consumer's keys; same shape as a key's
  key_policy         TEXT NOT NULL DEFAULT '{}',    -- what may be minted for it (max_active_keys, allowed_*, ...)
  status             TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'deleted')),
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  deleted_at         INTEGER,
  -- revoke-keys: every key created at or before this time is refused (by the consumer's object) from the
  -- moment the call returns; the per-key revocations then complete in batches.
  keys_revoked_before INTEGER,
  revoke_reason      TEXT,
  revoke_progress    TEXT,                          -- JSON { revoked, remaining, done_at }; NULL if none ran
  version            INTEGER NOT NULL DEFAULT 1     -- bumped by every change; the consumer's object refuses older ones
);
CREATE INDEX consumers_created ON consumers (created_at, id);

-- Every existing owner becomes a consumer without shared limits, so existing keys keep working unchanged.
INSERT INTO consumers (id, created_at, updated_at)
  SELECT owner_id, MIN(created_at), MIN(created_at) FROM api_keys GROUP BY owner_id;

-- The audit log's subject is general: a key, a consumer, and later a credential or a portal session.
-- SQLite cannot drop NOT NULL in place, so the table is rebuilt; old rows become key subjects.
CREATE TABLE audit_log_v2 (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  at            INTEGER NOT NULL,
  actor         TEXT NOT NULL,                     -- which credential acted, e.g. "ADMIN_TOKEN"; never the credential
  action        TEXT NOT NULL,
  subject_type  TEXT NOT NULL CHECK (subject_type IN ('key', 'consumer', 'credential', 'portal_session')),
  subject_id    TEXT NOT NULL,
  consumer_id   TEXT,                              -- the consumer the subject belongs to, for per-consumer trails
  request_id    TEXT NOT NULL,
  changes       TEXT NOT NULL DEFAULT '{}'         -- the changed fields as JSON; never secrets
);
INSERT INTO audit_log_v2 (id, at, actor, action, subject_type, subject_id, consumer_id, request_id, changes)
  SELECT a.id, a.at, a.actor, a.action, 'key', a.key_id, k.owner_id, a.request_id, a.changes
  FROM audit_log a LEFT JOIN api_keys k ON k.id = a.key_id;
DROP TABLE audit_log;
ALTER TABLE audit_log_v2 RENAME TO audit_log;
CREATE INDEX audit_log_subject ON audit_log (subject_type, subject_id, id);
CREATE INDEX audit_log_consumer ON audit_log (consumer_id, id);

-- Alerts get a consumer subject: a consumer-wide rule (consumer_traffic_spike) has no key.
CREATE TABLE alerts_v2 (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  rule          TEXT NOT NULL,
  key_id        TEXT,                              -- NULL for a consumer-wide rule
  owner_id      TEXT NOT NULL,                     -- the consumer
  opened_at     INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  occurrences   INTEGER NOT NULL DEFAULT 1,
  details       TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO alerts_v2 SELECT id, rule, key_id, owner_id, opened_at, last_seen_at, occurrences, details FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_v2 RENAME TO alerts;
CREATE INDEX alerts_rule_key ON alerts (rule, key_id, last_seen_at);
CREATE INDEX alerts_rule_owner ON alerts (rule, owner_id, last_seen_at);
CREATE INDEX alerts_last_seen ON alerts (last_seen_at);

