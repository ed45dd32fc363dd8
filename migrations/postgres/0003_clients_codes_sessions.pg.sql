-- PostgreSQL twin of sql/0003: OAuth clients, authorization codes and SSO sessions.
CREATE TABLE clients (
    id                        TEXT PRIMARY KEY,
    name                      TEXT NOT NULL,
    secret_hash               BYTEA,
    redirect_uris             TEXT NOT NULL DEFAULT '[]',
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
    grants                    TEXT NOT NULL DEFAULT '[]',
    scope                     TEXT NOT NULL DEFAULT '',
    audience                  TEXT,
    access_token_ttl          DOUBLE PRECISION,
    source                    TEXT NOT NULL DEFAULT 'admin' CHECK (source IN ('admin', 'config')),
    created_at                DOUBLE PRECISION NOT NULL,
    updated_at                DOUBLE PRECISION NOT NULL
);

CREATE TABLE authorization_codes (
    code_hash             BYTEA PRIMARY KEY,
    client_id             TEXT NOT NULL,
    user_id               TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri          TEXT NOT NULL,
    scope                 TEXT NOT NULL,
    nonce                 TEXT,
    code_challenge        TEXT,
    auth_time             DOUBLE PRECISION NOT NULL,
    session_id            TEXT,
    expires_at            DOUBLE PRECISION NOT NULL,
    used_at               DOUBLE PRECISION,
    issued_family_id      TEXT,
    issued_access_jti     TEXT,
    issued_access_expires DOUBLE PRECISION
);

CREATE TABLE sso_sessions (
    id          TEXT PRIMARY KEY,
    token_hash  BYTEA NOT NULL UNIQUE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time   DOUBLE PRECISION NOT NULL,
    created_at  DOUBLE PRECISION NOT NULL,
    expires_at  DOUBLE PRECISION NOT NULL,
    ended_at    DOUBLE PRECISION
);

CREATE INDEX sso_sessions_user ON sso_sessions (user_id);
