-- PostgreSQL twin of sql/0009: one-time codes and the durable mail queue.
CREATE TABLE one_time_codes (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    TEXT NOT NULL,
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify_email', 'recover', 'add_email')),
    email_key  TEXT NOT NULL,
    hash       BYTEA NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    spent_at   DOUBLE PRECISION,
    voided_at  DOUBLE PRECISION
);

CREATE INDEX one_time_codes_lookup ON one_time_codes (user_id, purpose, email_key, id);
CREATE INDEX one_time_codes_sends ON one_time_codes (user_id, purpose, created_at);
CREATE INDEX one_time_codes_expiry ON one_time_codes (expires_at);

CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY,
    user_id         TEXT REFERENCES users (id) ON DELETE SET NULL,
    recipient       TEXT NOT NULL,
    recipient_key   TEXT NOT NULL,
    template        TEXT NOT NULL,
    locale          TEXT,
    variables       TEXT NOT NULL,
    code_id         BIGINT REFERENCES one_time_codes (id) ON DELETE SET NULL,
    code_expires_at DOUBLE PRECISION,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'expired')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DOUBLE PRECISION NOT NULL,
    last_error      TEXT,
    created_at      DOUBLE PRECISION NOT NULL,
    updated_at      DOUBLE PRECISION NOT NULL
);

CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX mail_outbox_created ON mail_outbox (created_at, id);
CREATE INDEX mail_outbox_code ON mail_outbox (code_id) WHERE code_id IS NOT NULL;
CREATE INDEX mail_outbox_failed_code ON mail_outbox (code_expires_at) WHERE status = 'failed';
