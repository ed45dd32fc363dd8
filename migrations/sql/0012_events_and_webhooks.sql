-- The event log and webhook deliveries (contract §9). Events are appended in the transaction of
-- the change they record. `position` is the rowid: SQLite has one writer, so rowids increase
-- in commit order, and AUTOINCREMENT never hands out a number again, even after the retention
-- removed the newest rows. A rolled-back write frees its number and its sequence.
CREATE TABLE events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    id       TEXT NOT NULL UNIQUE,
    type     TEXT NOT NULL,
    subject  TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    time     REAL NOT NULL,
    data     TEXT NOT NULL,
    UNIQUE (subject, sequence)
) STRICT;

CREATE INDEX events_time ON events (time);

-- The last sequence number of each subject (a user, or a webhook endpoint). Kept after the
-- subject's events are removed by the retention, so a sequence never restarts.
CREATE TABLE event_streams (
    subject       TEXT PRIMARY KEY,
    last_sequence INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The highest position the retention has removed: a cursor below it has lost events.
CREATE TABLE event_log_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    pruned_through INTEGER NOT NULL
) STRICT;
INSERT INTO event_log_state (id, pruned_through) VALUES (1, 0);

-- Secrets are sealed (AES-256-GCM under keys/sealing.key, bound to the endpoint id).
CREATE TABLE webhook_endpoints (
    id                    TEXT PRIMARY KEY,
    url                   TEXT NOT NULL,
    description           TEXT,
    event_types           TEXT,
    secret                BLOB NOT NULL,
    previous_secret       BLOB,
    previous_secret_until REAL,
    enabled               INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    disabled_reason       TEXT,
    failing_since         REAL,
    created_at            REAL NOT NULL
) STRICT;

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_position  INTEGER NOT NULL REFERENCES events (position) ON DELETE CASCADE,
    lane            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      REAL NOT NULL,
    finished_at     REAL
) STRICT;

-- A lane's head is its pending delivery of the lowest id.
CREATE INDEX webhook_deliveries_lane ON webhook_deliveries (endpoint_id, lane, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_position);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

-- One row per (endpoint, subject) with pending deliveries: when its head is due and until
-- when a sender holds it. Claims read this small table, never the deliveries behind a head.
CREATE TABLE webhook_lanes (
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    lane            TEXT NOT NULL,
    next_attempt_at REAL NOT NULL,
    leased_until    REAL,
    PRIMARY KEY (endpoint_id, lane)
) STRICT, WITHOUT ROWID;

CREATE INDEX webhook_lanes_due ON webhook_lanes (next_attempt_at);
