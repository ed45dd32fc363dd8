-- One-time codes (contract §8.2): only a keyed hash of each is kept. A code is live while not
-- spent, not voided (by a newer code of its purpose and address, or a password reset), not
-- expired and under the attempt limit (a setting, so checked at spend time). Rows stay after
-- they die, for the resend limits, until the retention sweep removes them.
-- user_id has no foreign key on purpose: a request for an address with no account writes and
-- removes a placeholder row of the same shape, so that its commit costs what a real code's
-- does (contract §8.3: the same work whether or not the account exists). Deleting a user
-- deletes its codes explicitly.
CREATE TABLE one_time_codes (
    id         INTEGER PRIMARY KEY,
    user_id    TEXT NOT NULL,
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify_email', 'recover', 'add_email')),
    email_key  TEXT NOT NULL,
    hash       BLOB NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    spent_at   REAL,
    voided_at  REAL
) STRICT;

CREATE INDEX one_time_codes_lookup ON one_time_codes (user_id, purpose, email_key, id);
CREATE INDEX one_time_codes_sends ON one_time_codes (user_id, purpose, created_at);
CREATE INDEX one_time_codes_expiry ON one_time_codes (expires_at);

-- The durable mail queue (contract §8.5): a row is written in the transaction of the change
-- that causes the message. Only the template's variables are kept; `code` leaves them once
-- the message is sent or expired, or failed with its code dead.
CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY NOT NULL,
    user_id         TEXT REFERENCES users (id) ON DELETE SET NULL,
    recipient       TEXT NOT NULL,
    recipient_key   TEXT NOT NULL,
    template        TEXT NOT NULL,
    locale          TEXT,
    variables       TEXT NOT NULL,                -- JSON object of string: string
    code_id         INTEGER REFERENCES one_time_codes (id) ON DELETE SET NULL,
    code_expires_at REAL,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'expired')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error      TEXT,
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL
) STRICT;

CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX mail_outbox_created ON mail_outbox (created_at, id);
CREATE INDEX mail_outbox_code ON mail_outbox (code_id) WHERE code_id IS NOT NULL;
CREATE INDEX mail_outbox_failed_code ON mail_outbox (code_expires_at) WHERE status = 'failed';
