-- Signing keys pass through `next` (published, not yet signing) before they become active, so
-- that every process publishes a key before any signs with it (contract §10.2); activate_after
-- says when. With a key_encryption_key the private keys live here too, sealed (AES-256-GCM),
-- and so do the other secrets every process must share (stored_secrets); without one the keys
-- dir holds them, as before. SQLite cannot change a CHECK in place: the table is rebuilt.
CREATE TABLE signing_keys_new (
    kid            TEXT PRIMARY KEY NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('next', 'active', 'retiring', 'retired')),
    created_at     REAL NOT NULL,
    retire_after   REAL,
    public_jwk     TEXT NOT NULL,
    activate_after REAL,
    private_key    BLOB
) STRICT;

INSERT INTO signing_keys_new (kid, state, created_at, retire_after, public_jwk)
    SELECT kid, state, created_at, retire_after, public_jwk FROM signing_keys;
DROP TABLE signing_keys;
ALTER TABLE signing_keys_new RENAME TO signing_keys;

CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (state) WHERE state = 'active';

CREATE TABLE stored_secrets (
    name   TEXT PRIMARY KEY NOT NULL,
    sealed BLOB NOT NULL
) STRICT;
