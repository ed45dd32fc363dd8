-- PostgreSQL twin of sql/0002: users, refresh-token families and tokens, access-token
-- revocations and the post-sign-up hook outbox.
CREATE TABLE users (
    id                TEXT PRIMARY KEY,
    email             TEXT NOT NULL,
    email_key         TEXT NOT NULL,
    password_hash     TEXT,
    status            TEXT NOT NULL CHECK (status IN ('active', 'unconfirmed', 'disabled')),
    email_verified    BOOLEAN NOT NULL DEFAULT false,
    attributes        TEXT NOT NULL DEFAULT '{}',
    created_at        DOUBLE PRECISION NOT NULL,
    updated_at        DOUBLE PRECISION NOT NULL,
    tokens_not_before DOUBLE PRECISION
);

CREATE UNIQUE INDEX users_email_key ON users (email_key);
CREATE INDEX users_created ON users (created_at, id);

CREATE TABLE refresh_token_families (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id      TEXT NOT NULL,
    scope          TEXT NOT NULL,
    auth_time      DOUBLE PRECISION NOT NULL,
    created_at     DOUBLE PRECISION NOT NULL,
    expires_at     DOUBLE PRECISION NOT NULL,
    revoked_at     DOUBLE PRECISION,
    revoked_reason TEXT
);

CREATE INDEX refresh_token_families_user ON refresh_token_families (user_id);
CREATE INDEX refresh_token_families_client ON refresh_token_families (client_id);

-- Only the SHA-256 of each token. A rotation is one compare-and-set on used_at; revoking a
-- family also sets used_at on its live token, so a rotation racing the revocation waits for
-- that row and then finds it spent.
CREATE TABLE refresh_tokens (
    token_hash  BYTEA PRIMARY KEY,
    family_id   TEXT NOT NULL REFERENCES refresh_token_families (id) ON DELETE CASCADE,
    parent_hash BYTEA,
    issued_at   DOUBLE PRECISION NOT NULL,
    used_at     DOUBLE PRECISION
);

CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE revoked_access_tokens (
    jti        TEXT PRIMARY KEY,
    expires_at DOUBLE PRECISION NOT NULL,
    revoked_at DOUBLE PRECISION NOT NULL
);

CREATE TABLE hook_runs (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hook            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'succeeded', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DOUBLE PRECISION NOT NULL,
    last_error      TEXT,
    created_at      DOUBLE PRECISION NOT NULL,
    updated_at      DOUBLE PRECISION NOT NULL
);

CREATE INDEX hook_runs_due ON hook_runs (state, next_attempt_at);
