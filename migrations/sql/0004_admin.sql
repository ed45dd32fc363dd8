-- The admin CLI: its audit log, and per-client revocation of access tokens.

-- Every admin action: who ran it (as the OS tells), when, what, on which target. Never a
-- secret, never personal data of a deleted user.
CREATE TABLE admin_audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      REAL NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT,
    details TEXT
) STRICT;

-- Access tokens of a client issued up to tokens_not_before are revoked (also for the
-- built-in client `tessera`, which has no row in clients).
CREATE TABLE client_revocations (
    client_id         TEXT PRIMARY KEY NOT NULL,
    tokens_not_before REAL NOT NULL
) STRICT, WITHOUT ROWID;
