-- OAuth clients, authorization codes and SSO sessions.

-- The client registry. A confidential client's secret is 256 random bits, so its SHA-256 is
-- the right store (a slow hash would only cap client_credentials); public clients have none.
CREATE TABLE clients (
    id                        TEXT PRIMARY KEY NOT NULL,
    name                      TEXT NOT NULL,
    secret_hash               BLOB,                  -- SHA-256; NULL for a public client
    redirect_uris             TEXT NOT NULL DEFAULT '[]',   -- JSON array, matched exactly
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',   -- JSON array, matched exactly
    grants                    TEXT NOT NULL DEFAULT '[]',   -- JSON array of grant types
    scope                     TEXT NOT NULL DEFAULT '',     -- space-delimited allowed scopes
    audience                  TEXT,                  -- aud of its access tokens; NULL: the issuer
    access_token_ttl          REAL,                  -- seconds (300-86400); NULL: the server's setting
    source                    TEXT NOT NULL DEFAULT 'admin' CHECK (source IN ('admin', 'config')),
    created_at                REAL NOT NULL,
    updated_at                REAL NOT NULL
) STRICT;

-- Authorization codes: single use, short-lived, bound to client, redirect URI and PKCE
-- challenge. What was issued from a code is remembered so a replay can revoke it.
CREATE TABLE authorization_codes (
    code_hash             BLOB PRIMARY KEY NOT NULL,  -- SHA-256 of the code
    client_id             TEXT NOT NULL,
    user_id               TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri          TEXT NOT NULL,
    scope                 TEXT NOT NULL,
    nonce                 TEXT,
    code_challenge        TEXT,
    auth_time             REAL NOT NULL,
    session_id            TEXT,
    expires_at            REAL NOT NULL,
    used_at               REAL,
    issued_family_id      TEXT,
    issued_access_jti     TEXT,
    issued_access_expires REAL
) STRICT, WITHOUT ROWID;

-- Server-side SSO sessions behind the tessera_session cookie (only its SHA-256 stored).
CREATE TABLE sso_sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    token_hash  BLOB NOT NULL UNIQUE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time   REAL NOT NULL,
    created_at  REAL NOT NULL,
    expires_at  REAL NOT NULL,
    ended_at    REAL
) STRICT;

CREATE INDEX sso_sessions_user ON sso_sessions (user_id);
