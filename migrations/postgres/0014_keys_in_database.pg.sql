-- PostgreSQL twin of sql/0014: signing keys pass through `next` (published, not yet signing)
-- before they become active, so that every instance publishes a key before any signs with it;
-- private keys and the secrets every instance shares live here, sealed under
-- key_encryption_key (AES-256-GCM).
ALTER TABLE signing_keys DROP CONSTRAINT signing_keys_state_check;
ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_state_check CHECK (state IN ('next', 'active', 'retiring', 'retired'));
ALTER TABLE signing_keys ADD COLUMN activate_after DOUBLE PRECISION;
ALTER TABLE signing_keys ADD COLUMN private_key BYTEA;

CREATE TABLE stored_secrets (
    name   TEXT PRIMARY KEY,
    sealed BYTEA NOT NULL
);
