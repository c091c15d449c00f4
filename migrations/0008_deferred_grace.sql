-- Rotations completed in steps by a secret manager (docs/keys.md#rotation-in-steps). Both columns are read and
-- written by src/keys/rotation-store.ts only; the cached record and the key's object never hold them.
-- grace_deferred_ms: on a key rotated with defer_grace, the grace period (ms) its rotation asked for; its grace
--   starts with POST /keys/{id}/start-grace. Kept after the start, so a retried start is recognised. NULL
--   for a key never rotated with defer_grace.
-- rotation_token: on a rotated key, the caller's rotation_token of the rotation that minted rotated_to, so a
--   retry of that rotation (its successor's secret lost) replaces the successor. Not a secret.
ALTER TABLE api_keys ADD COLUMN grace_deferred_ms INTEGER;
ALTER TABLE api_keys ADD COLUMN rotation_token TEXT;
