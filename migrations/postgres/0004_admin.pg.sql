-- PostgreSQL twin of sql/0004: the audit log of admin actions and per-client revocations.
CREATE TABLE admin_audit (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      DOUBLE PRECISION NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT,
    details TEXT
);

CREATE TABLE client_revocations (
    client_id         TEXT PRIMARY KEY,
    tokens_not_before DOUBLE PRECISION NOT NULL
);
