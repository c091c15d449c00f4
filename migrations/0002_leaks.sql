-- Leak and exposure events: one row per report of a key found where it should not be.
CREATE TABLE leak_events (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  key_id         TEXT,                            -- the key it matched; NULL when the report matched no key
  source         TEXT NOT NULL,                   -- github, gitleaks, trufflehog, scanner, gateway_query
  fingerprint    TEXT NOT NULL UNIQUE,            -- source + a stable id of the report; a replay matches it and changes nothing
  location       TEXT,                            -- where it was found (URL, file:line); never the key
  reported_at    INTEGER NOT NULL,                -- when the report reached the authorizer (epoch ms)
  revoked_at     INTEGER,                         -- when the revocation completed (D1 and the key's object); NULL if not revoked
  outcome        TEXT NOT NULL                    -- revoked, already_revoked, recorded (not revoked by policy), no_match
);
CREATE INDEX leak_events_reported ON leak_events (reported_at);
CREATE INDEX leak_events_key ON leak_events (key_id, reported_at);
