-- PostgreSQL twin of sql/0001: signing-key state. Times are seconds since the Unix epoch
-- (double precision), as in the SQLite schema, so both backends share one reading of them.
CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY,
    state        TEXT NOT NULL CHECK (state IN ('active', 'retiring', 'retired')),
    created_at   DOUBLE PRECISION NOT NULL,
    retire_after DOUBLE PRECISION,
    public_jwk   TEXT NOT NULL
);

CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (state) WHERE state = 'active';
