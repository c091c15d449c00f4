-- Server-side sessions of the web console and (later) the consumer portal, and the sign-in log.
-- A session's id lives only in its cookie: the row holds its SHA-256, so a read of this table signs no one in.
CREATE TABLE console_sessions (
  id_hash                 TEXT PRIMARY KEY,             -- SHA-256 (hex) of the session id
  kind                    TEXT NOT NULL CHECK (kind IN ('console', 'portal')),
  actor                   TEXT NOT NULL,                -- JSON: who acts (an admin token's name, an Access email, a consumer)
  credential_fingerprint  TEXT,                         -- token sessions: a prefix of HMAC(token, label); never the token
  csrf_token              TEXT NOT NULL,                -- random, per session; every state-changing form carries it
  spent_forms             TEXT NOT NULL DEFAULT '[]',   -- JSON: the last one-time form ids used (create and rotate)
  created_at              INTEGER NOT NULL,
  last_seen_at            INTEGER NOT NULL,
  idle_timeout_ms         INTEGER NOT NULL,
  expires_at              INTEGER NOT NULL              -- the absolute end, whatever the activity
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- Every sign-in attempt, granted or refused (never the credential presented).
CREATE TABLE console_sign_ins (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  at          INTEGER NOT NULL,
  kind        TEXT NOT NULL,                            -- console | portal
  method      TEXT NOT NULL,                            -- token | access | link
  outcome     TEXT NOT NULL,                            -- signed_in | refused | throttled
  actor       TEXT,                                     -- who signed in (null when refused)
  client      TEXT,                                     -- the client address (its /64 for IPv6)
  request_id  TEXT NOT NULL
);
CREATE INDEX console_sign_ins_at ON console_sign_ins (at);
