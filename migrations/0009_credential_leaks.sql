-- A leak event may be about a scoped admin credential (admin_credentials) instead of a key: its id here, with
-- key_id NULL. A row with neither matched nothing (outcome no_match).
ALTER TABLE leak_events ADD COLUMN credential_id TEXT;
CREATE INDEX leak_events_credential ON leak_events (credential_id, reported_at);
