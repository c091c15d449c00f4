-- D1 is the source of truth for keys. Times are Unix epoch milliseconds; list-like columns hold JSON text.
CREATE TABLE api_keys (
  id              TEXT PRIMARY KEY,                -- "key_" + 22 base62 chars; random, never derived from the secret
  key_hash        TEXT NOT NULL UNIQUE,            -- lowercase hex SHA-256 of the whole key string
  prefix          TEXT NOT NULL,                   -- e.g. "sk_live_"
  hint            TEXT NOT NULL,                   -- last 4 characters of the key
  type            TEXT NOT NULL CHECK (type IN ('secret', 'publishable')),
  environment     TEXT NOT NULL CHECK (environment IN ('live', 'test')),
  owner_id        TEXT NOT NULL,
  name            TEXT NOT NULL DEFAULT '',
  scopes          TEXT NOT NULL DEFAULT '[]',
  rate_limits     TEXT NOT NULL DEFAULT '[]',
  ip_allowlist    TEXT NOT NULL DEFAULT '[]',
  allowed_routes  TEXT NOT NULL DEFAULT '[]',
  allowed_origins TEXT NOT NULL DEFAULT '[]',
  metadata        TEXT NOT NULL DEFAULT '{}',
  status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'revoked')),
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL,
  revoked_at      INTEGER,
  revoke_reason   TEXT,
  rotated_from    TEXT,
  rotated_to      TEXT,
  grace_until     INTEGER,
  last_used_at    INTEGER,
  usage_count     INTEGER NOT NULL DEFAULT 0,
  version         INTEGER NOT NULL DEFAULT 1,      -- bumped by every change; leases and caches carry it
  lineage_id      TEXT NOT NULL                    -- the first key of a rotation chain; names the key's Durable Object
);
CREATE INDEX api_keys_owner ON api_keys (owner_id, created_at);

-- One row per key mutation, written in the same D1 batch as the change it records.
CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  at          INTEGER NOT NULL,
  actor       TEXT NOT NULL,                       -- which credential acted, e.g. "ADMIN_TOKEN"; never the credential
  action      TEXT NOT NULL,                       -- create, update, disable, enable, revoke, rotate
  key_id      TEXT NOT NULL,
  request_id  TEXT NOT NULL,
  changes     TEXT NOT NULL DEFAULT '{}'           -- the changed fields as JSON; never secrets
);
CREATE INDEX audit_log_key ON audit_log (key_id, id);
