-- The one-time links that open a consumer's self-service portal (POST /admin/v1/portal/sessions).
-- A link's token lives only in its URL: the row holds its SHA-256, so a read of this table opens no portal.
CREATE TABLE portal_links (
  id           TEXT PRIMARY KEY,                 -- "pl_" + random: the audit rows' subject, never the token
  token_hash   TEXT NOT NULL UNIQUE,             -- SHA-256 (hex) of the token
  consumer_id  TEXT NOT NULL,
  return_url   TEXT,                             -- shown as "Back to …"; https, or http on loopback
  created_by   TEXT NOT NULL,                    -- the actor that opened it (actorName)
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,                 -- the link's end, and the end of the session it opens
  used_at      INTEGER                           -- set by the first visit: a link opens one session, once
);
CREATE INDEX portal_links_expiry ON portal_links (expires_at);
