-- Scoped admin credentials: narrower principals than ADMIN_TOKEN, for automations (a secret manager's
-- rotation function, a CI job). Stored as the SHA-256 of the secret only; the secret is shown once.
CREATE TABLE admin_credentials (
  id             TEXT PRIMARY KEY,                 -- cred_<22 base62>
  name           TEXT NOT NULL,
  hash           TEXT NOT NULL UNIQUE,             -- lowercase hex SHA-256 of the credential
  hint           TEXT NOT NULL,                    -- its last four characters
  permissions    TEXT NOT NULL,                    -- JSON array of permission names
  consumers      TEXT,                             -- JSON array of consumer ids; NULL: every consumer
  created_by     TEXT NOT NULL,                    -- the actor that minted it (audit name)
  created_at     INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL,
  revoked_at     INTEGER,
  revoke_reason  TEXT,
  last_used_at   INTEGER
);
CREATE INDEX admin_credentials_created ON admin_credentials (created_at, id);
