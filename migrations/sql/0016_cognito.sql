-- The Cognito-compatible API (contract §11). Per client: the auth flows it may use, whether its
-- refresh tokens rotate, the retry grace, and its secret sealed (AES-256-GCM under the keys
-- dir's sealing key) so that SECRET_HASH can be checked: only the SHA-256 is kept otherwise.
ALTER TABLE clients ADD COLUMN auth_flows TEXT NOT NULL DEFAULT '["REFRESH_TOKEN_AUTH","USER_SRP_AUTH"]';
ALTER TABLE clients ADD COLUMN refresh_rotation TEXT NOT NULL DEFAULT 'enabled' CHECK (refresh_rotation IN ('enabled', 'disabled'));
ALTER TABLE clients ADD COLUMN retry_grace_seconds INTEGER NOT NULL DEFAULT 0 CHECK (retry_grace_seconds BETWEEN 0 AND 60);
ALTER TABLE clients ADD COLUMN secret_sealed BLOB;

-- Access tokens of the Cognito API name their refresh family (origin_jti): revoking the family
-- revokes them, so a family's revocation counts among what decides a token's standing.
CREATE TRIGGER refresh_token_families_revoked_counted AFTER UPDATE OF revoked_at ON refresh_token_families BEGIN
    UPDATE change_counters SET generation = generation + 1 WHERE name IN ('standings');
END;

-- SigV4 access keys of the admin operations: the secret sealed, never hashed (SigV4 needs it).
CREATE TABLE access_keys (
    id            TEXT PRIMARY KEY NOT NULL,
    secret_sealed BLOB NOT NULL,
    created_at    REAL NOT NULL
) STRICT;

-- Whether the password is one the user chose (permanent), one an operator set for a single
-- sign-in (temporary: Cognito's FORCE_CHANGE_PASSWORD), or must be reset before any sign-in
-- (reset_required: Cognito's RESET_REQUIRED).
ALTER TABLE users ADD COLUMN password_state TEXT NOT NULL DEFAULT 'permanent'
    CHECK (password_state IN ('permanent', 'temporary', 'reset_required'));

-- USER_SRP_AUTH verifiers (contract §11.6): salt and verifier, sealed, kept only while
-- cognito_srp is on; they go with the user.
CREATE TABLE srp_verifiers (
    user_id    TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sealed     BLOB NOT NULL,
    updated_at REAL NOT NULL
) STRICT;

-- SRP secret blocks spent once (contract §11.6): a replayed PASSWORD_VERIFIER answer finds its
-- block here. Kept until the block expires.
CREATE TABLE spent_challenges (
    id         TEXT PRIMARY KEY NOT NULL,
    expires_at REAL NOT NULL
) STRICT;

-- A rotated refresh token's successor, sealed, for the client's retry grace (contract §11.4:
-- within retry_grace_seconds the same old token returns the same successor). Goes with the
-- token; kept until the grace ends.
CREATE TABLE refresh_retries (
    token_hash       BLOB PRIMARY KEY NOT NULL REFERENCES refresh_tokens (token_hash) ON DELETE CASCADE,
    successor_sealed BLOB NOT NULL,
    expires_at       REAL NOT NULL
) STRICT;
