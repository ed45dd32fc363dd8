-- PostgreSQL twin of sql/0012: the event log and webhook deliveries (contract §9, §10.2).
-- Several instances write at once, and a sequence hands out numbers in the order asked, not
-- the order committed: a reader could pass a number whose transaction commits later. So the
-- position comes from a counter row (event_log_state.last_position) that every appending
-- transaction updates and holds until it commits: positions are taken in commit order, a
-- rolled-back transaction gives its number back, and a cursor never skips an event.
CREATE TABLE events (
    position BIGINT PRIMARY KEY,
    id       TEXT NOT NULL UNIQUE,
    type     TEXT NOT NULL,
    subject  TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    time     DOUBLE PRECISION NOT NULL,
    data     TEXT NOT NULL,
    UNIQUE (subject, sequence)
);

CREATE INDEX events_time ON events (time);

CREATE TABLE event_streams (
    subject       TEXT PRIMARY KEY,
    last_sequence BIGINT NOT NULL
);

CREATE TABLE event_log_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    pruned_through BIGINT NOT NULL,
    last_position  BIGINT NOT NULL
);
INSERT INTO event_log_state (id, pruned_through, last_position) VALUES (1, 0, 0);

CREATE TABLE webhook_endpoints (
    id                    TEXT PRIMARY KEY,
    url                   TEXT NOT NULL,
    description           TEXT,
    event_types           TEXT,
    secret                BYTEA NOT NULL,
    previous_secret       BYTEA,
    previous_secret_until DOUBLE PRECISION,
    enabled               BOOLEAN NOT NULL DEFAULT true,
    disabled_reason       TEXT,
    failing_since         DOUBLE PRECISION,
    created_at            DOUBLE PRECISION NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_position  BIGINT NOT NULL REFERENCES events (position) ON DELETE CASCADE,
    lane            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DOUBLE PRECISION NOT NULL,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      DOUBLE PRECISION NOT NULL,
    finished_at     DOUBLE PRECISION
);

CREATE INDEX webhook_deliveries_lane ON webhook_deliveries (endpoint_id, lane, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_position);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

CREATE TABLE webhook_lanes (
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    lane            TEXT NOT NULL,
    next_attempt_at DOUBLE PRECISION NOT NULL,
    leased_until    DOUBLE PRECISION,
    PRIMARY KEY (endpoint_id, lane)
);

CREATE INDEX webhook_lanes_due ON webhook_lanes (next_attempt_at);
