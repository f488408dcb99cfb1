-- Patchbay schema v1 (PostgreSQL). Times are Unix milliseconds (BIGINT) so the same queries
-- run on SQLite (INTEGER). Keep this file's twin in ../sqlite identical in meaning.

CREATE TABLE teams (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    team_id       TEXT NOT NULL REFERENCES teams(id),
    login         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    team_id      TEXT NOT NULL REFERENCES teams(id),
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    token_hash   BYTEA NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL
);

-- One encrypted known value per master-key version: proves a key is the right one before
-- anything is written (SECURITY S-08).
CREATE TABLE master_key_checks (
    version     BIGINT PRIMARY KEY,
    check_blob  BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Per-team data keys, wrapped by a master-key version.
CREATE TABLE team_keys (
    team_id         TEXT NOT NULL REFERENCES teams(id),
    key_id          BIGINT NOT NULL,
    master_version  BIGINT NOT NULL,
    wrapped         BYTEA NOT NULL,
    created_at      BIGINT NOT NULL,
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
    expires_at              BIGINT,
    reauthorize_by          BIGINT,
    last_verify             TEXT,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL,
    UNIQUE (team_id, name)
);
CREATE INDEX connections_by_team ON connections (team_id, created_at);

-- Secret fields, each an AES-256-GCM blob bound to (team, connection, field, key id).
CREATE TABLE connection_secrets (
    connection_id  TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    field          TEXT NOT NULL,
    ciphertext     BYTEA NOT NULL,
    PRIMARY KEY (connection_id, field)
);

CREATE TABLE audit_log (
    id             BIGSERIAL PRIMARY KEY,
    team_id        TEXT NOT NULL,
    at             BIGINT NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    connection_id  TEXT,
    outcome        TEXT NOT NULL,
    detail         TEXT
);
CREATE INDEX audit_by_team ON audit_log (team_id, id);
