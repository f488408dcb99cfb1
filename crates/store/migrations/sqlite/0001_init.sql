-- Patchbay schema v1 (SQLite). Times are Unix milliseconds (INTEGER) so the same queries
-- run on PostgreSQL (BIGINT). Keep this file's twin in ../postgres identical in meaning.

CREATE TABLE teams (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    team_id       TEXT NOT NULL REFERENCES teams(id),
    login         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    team_id      TEXT NOT NULL REFERENCES teams(id),
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL
);

-- One encrypted known value per master-key version: proves a key is the right one before
-- anything is written (SECURITY S-08).
CREATE TABLE master_key_checks (
    version     INTEGER PRIMARY KEY,
    check_blob  BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Per-team data keys, wrapped by a master-key version.
CREATE TABLE team_keys (
    team_id         TEXT NOT NULL REFERENCES teams(id),
    key_id          INTEGER NOT NULL,
    master_version  INTEGER NOT NULL,
    wrapped         BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (team_id, key_id)
);

CREATE TABLE connections (
    id                      TEXT PRIMARY KEY,
    team_id                 TEXT NOT NULL REFERENCES teams(id),
    provider                TEXT NOT NULL,
    name                    TEXT NOT NULL,
    status                  TEXT NOT NULL,
    status_reason           TEXT,
    account                 TEXT,
    granted_scopes          TEXT NOT NULL DEFAULT '',
    settings                TEXT NOT NULL DEFAULT '{}',
    credential_fingerprint  TEXT,
    expires_at              INTEGER,
    reauthorize_by          INTEGER,
    last_verify             TEXT,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    UNIQUE (team_id, name)
);
CREATE INDEX connections_by_team ON connections (team_id, created_at);

-- Secret fields, each an AES-256-GCM blob bound to (team, connection, field, key id).
CREATE TABLE connection_secrets (
    connection_id  TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    field          TEXT NOT NULL,
    ciphertext     BLOB NOT NULL,
    PRIMARY KEY (connection_id, field)
);

CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id        TEXT NOT NULL,
    at             INTEGER NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    connection_id  TEXT,
    outcome        TEXT NOT NULL,
    detail         TEXT
);
CREATE INDEX audit_by_team ON audit_log (team_id, id);
