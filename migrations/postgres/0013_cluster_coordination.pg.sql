-- PostgreSQL twin of sql/0013: coordination between instances sharing the database.
--
-- Outbox leases: instances claim due rows with FOR UPDATE SKIP LOCKED and set leased_until; a
-- crashed instance's claims are taken over once their lease has run out.
ALTER TABLE hook_runs ADD COLUMN leased_until DOUBLE PRECISION;
ALTER TABLE hook_runs ADD COLUMN leased_by TEXT;
ALTER TABLE mail_outbox ADD COLUMN leased_until DOUBLE PRECISION;
ALTER TABLE mail_outbox ADD COLUMN leased_by TEXT;

-- Brute-force limits counted by every instance together: token buckets per client address
-- (one upsert per attempt) and each account's recent login failures (by the SHA-256 account
-- key, never the address). Rows past expires_at are swept.
CREATE TABLE rate_buckets (
    key        TEXT PRIMARY KEY,
    tokens     DOUBLE PRECISION NOT NULL,
    admitted   BOOLEAN NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);

CREATE INDEX rate_buckets_expiry ON rate_buckets (expires_at);

CREATE TABLE login_failures (
    account_key BYTEA PRIMARY KEY,
    failures    DOUBLE PRECISION[] NOT NULL,
    expires_at  DOUBLE PRECISION NOT NULL
);

CREATE INDEX login_failures_expiry ON login_failures (expires_at);
