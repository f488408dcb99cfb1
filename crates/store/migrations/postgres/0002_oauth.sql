-- OAuth consent flows and revocations still owed to providers (PostgreSQL; twin in ../sqlite).

-- One row per started consent flow, deleted when its callback consumes it (single use). The
-- state is stored only as its SHA-256 so a database reader cannot complete someone's flow; the
-- PKCE verifier is sealed like any credential field.
CREATE TABLE oauth_flows (
    state_hash            TEXT PRIMARY KEY,
    team_id               TEXT NOT NULL REFERENCES teams(id),
    connection_id         TEXT NOT NULL,
    provider              TEXT NOT NULL,
    kind                  TEXT NOT NULL,
    requested_scopes      TEXT NOT NULL,
    redirect_uri          TEXT NOT NULL,
    pkce_verifier         BYTEA,
    binding               TEXT,
    allow_account_change  BIGINT NOT NULL,
    actor                 TEXT NOT NULL,
    return_to             TEXT,
    created_at            BIGINT NOT NULL,
    expires_at            BIGINT NOT NULL
);
CREATE INDEX oauth_flows_by_expiry ON oauth_flows (expires_at);

-- Tokens of deleted connections whose revocation failed transiently; retried with backoff.
CREATE TABLE pending_revocations (
    id               BIGSERIAL PRIMARY KEY,
    team_id          TEXT NOT NULL,
    connection_id    TEXT NOT NULL,
    provider         TEXT NOT NULL,
    settings         TEXT NOT NULL,
    hint             TEXT NOT NULL,
    token            BYTEA NOT NULL,
    client_secret    BYTEA,
    attempts         BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    give_up_at       BIGINT NOT NULL,
    last_error       TEXT
);
CREATE INDEX pending_revocations_due ON pending_revocations (next_attempt_at);
