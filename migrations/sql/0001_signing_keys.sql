-- Signing-key state. The private keys live in the keys dir as PEM files; this table says
-- which one signs (active), which are still published for verification (retiring, until
-- retire_after) and which are done (retired), so a rotation needs no restart.
-- Times are seconds since the Unix epoch (REAL).
CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY NOT NULL,          -- RFC 7638 thumbprint
    state        TEXT NOT NULL CHECK (state IN ('active', 'retiring', 'retired')),
    created_at   REAL NOT NULL,
    retire_after REAL,
    public_jwk   TEXT NOT NULL                       -- JSON, so old tokens verify without the PEM
) STRICT;

-- At most one active key, enforced by the database.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (state) WHERE state = 'active';
