-- PostgreSQL twin of sql/0016: the Cognito API's per-client settings, the revocation of a
-- family counted among token standings, SigV4 access keys, the password state and SRP verifiers.
ALTER TABLE clients ADD COLUMN auth_flows TEXT NOT NULL DEFAULT '["REFRESH_TOKEN_AUTH","USER_SRP_AUTH"]';
ALTER TABLE clients ADD COLUMN refresh_rotation TEXT NOT NULL DEFAULT 'enabled' CHECK (refresh_rotation IN ('enabled', 'disabled'));
ALTER TABLE clients ADD COLUMN retry_grace_seconds BIGINT NOT NULL DEFAULT 0 CHECK (retry_grace_seconds BETWEEN 0 AND 60);
ALTER TABLE clients ADD COLUMN secret_sealed BYTEA;

CREATE TRIGGER refresh_token_families_revoked_counted AFTER UPDATE OF revoked_at ON refresh_token_families
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_bump_counters('standings');

CREATE TABLE access_keys (
    id            TEXT PRIMARY KEY,
    secret_sealed BYTEA NOT NULL,
    created_at    DOUBLE PRECISION NOT NULL
);

ALTER TABLE users ADD COLUMN password_state TEXT NOT NULL DEFAULT 'permanent'
    CHECK (password_state IN ('permanent', 'temporary', 'reset_required'));

CREATE TABLE srp_verifiers (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed     BYTEA NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);

-- SRP secret blocks spent once (contract §11.6): a replayed PASSWORD_VERIFIER answer finds its
-- block here. Kept until the block expires.
CREATE TABLE spent_challenges (
    id         TEXT PRIMARY KEY,
    expires_at DOUBLE PRECISION NOT NULL
);

CREATE TABLE refresh_retries (
    token_hash       BYTEA PRIMARY KEY REFERENCES refresh_tokens (token_hash) ON DELETE CASCADE,
    successor_sealed BYTEA NOT NULL,
    expires_at       DOUBLE PRECISION NOT NULL
);
