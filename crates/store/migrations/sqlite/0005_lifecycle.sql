-- Token lifecycle (SQLite; twin in ../postgres): refresh leases fenced by generation, the
-- scheduler's due index, lifecycle events and signed webhooks.

ALTER TABLE connections ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN lease_owner TEXT;
ALTER TABLE connections ADD COLUMN lease_until INTEGER;
-- NULL, or 'in_flight' (recorded before a refresh request leaves) / 'unknown' (it left and no
-- answer came back): resolved at the next refresh or start, never silently.
ALTER TABLE connections ADD COLUMN refresh_state TEXT;
ALTER TABLE connections ADD COLUMN failure_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN last_refreshed_at INTEGER;
ALTER TABLE connections ADD COLUMN next_action_at INTEGER;
-- Smallest number of days-before-expiry already warned about (7, then 1).
ALTER TABLE connections ADD COLUMN warned_days INTEGER;
CREATE INDEX connections_due ON connections (next_action_at) WHERE next_action_at IS NOT NULL;

CREATE TABLE events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id        TEXT NOT NULL,
    connection_id  TEXT,
    type           TEXT NOT NULL,
    at             INTEGER NOT NULL,
    data           TEXT NOT NULL
);
CREATE INDEX events_by_team ON events (team_id, id);

CREATE TABLE webhooks (
    id           TEXT PRIMARY KEY,
    team_id      TEXT NOT NULL REFERENCES teams(id),
    url          TEXT NOT NULL,
    secret       BLOB NOT NULL,
    event_types  TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id       TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id         INTEGER NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    state            TEXT NOT NULL,
    last_error       TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
