-- Users, refresh-token families and tokens, access-token revocations and the post-sign-up
-- hook outbox. Times are seconds since the Unix epoch (REAL).

CREATE TABLE users (
    id                TEXT PRIMARY KEY NOT NULL,     -- random, opaque
    email             TEXT NOT NULL,                 -- as the user typed it, for display
    email_key         TEXT NOT NULL,                 -- lower-cased: uniqueness is case-insensitive
    password_hash     TEXT,                          -- bcrypt; NULL: no password, cannot log in
    status            TEXT NOT NULL CHECK (status IN ('active', 'unconfirmed', 'disabled')),
    email_verified    INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1)),
    attributes        TEXT NOT NULL DEFAULT '{}',    -- JSON object of string: string
    created_at        REAL NOT NULL,
    updated_at        REAL NOT NULL,
    tokens_not_before REAL                           -- access tokens issued before are revoked
) STRICT;

-- Two concurrent sign-ups with one address: the index lets exactly one in.
CREATE UNIQUE INDEX users_email_key ON users (email_key);
CREATE INDEX users_created ON users (created_at, id);

-- One family per login: every refresh token descended from it shares its user, client,
-- scope, absolute expiry and revocation.
CREATE TABLE refresh_token_families (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL,
    scope       TEXT NOT NULL,
    auth_time   REAL NOT NULL,
    created_at  REAL NOT NULL,
    expires_at  REAL NOT NULL,                       -- absolute: rotation never extends it
    revoked_at  REAL,
    revoked_reason TEXT
) STRICT;

CREATE INDEX refresh_token_families_user ON refresh_token_families (user_id);
CREATE INDEX refresh_token_families_client ON refresh_token_families (client_id);

-- Only the SHA-256 of each token is stored.
CREATE TABLE refresh_tokens (
    token_hash  BLOB PRIMARY KEY NOT NULL,
    family_id   TEXT NOT NULL REFERENCES refresh_token_families (id) ON DELETE CASCADE,
    parent_hash BLOB,                                -- the token this one replaced
    issued_at   REAL NOT NULL,
    used_at     REAL                                 -- set when rotated; a second use is reuse
) STRICT, WITHOUT ROWID;

CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Access tokens are not stored; a revoked one is remembered by jti until it expires.
CREATE TABLE revoked_access_tokens (
    jti        TEXT PRIMARY KEY NOT NULL,
    expires_at REAL NOT NULL,
    revoked_at REAL NOT NULL
) STRICT, WITHOUT ROWID;

-- Post-sign-up hook runs: written in the sign-up's own transaction, so none is ever lost;
-- retried with backoff until they succeed or are dead-lettered.
CREATE TABLE hook_runs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hook            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'succeeded', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error      TEXT,
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL
) STRICT;

CREATE INDEX hook_runs_due ON hook_runs (state, next_attempt_at);
