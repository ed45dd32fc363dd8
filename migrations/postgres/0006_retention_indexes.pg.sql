-- PostgreSQL twin of sql/0006: indexes the retention sweep reads.
CREATE INDEX refresh_token_families_expiry ON refresh_token_families (expires_at);
CREATE INDEX sso_sessions_expiry ON sso_sessions (expires_at);
CREATE INDEX sso_sessions_ended ON sso_sessions (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX revoked_access_tokens_expiry ON revoked_access_tokens (expires_at);
CREATE INDEX authorization_codes_expiry ON authorization_codes (expires_at);
