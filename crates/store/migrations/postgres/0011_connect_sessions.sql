-- Connect sessions (postgres; twin in ../sqlite, identical in meaning): another product (the
-- platform) lets one of its own users (the end user) add a connection to the platform's team
-- on a hosted page, without a Patchbay account (docs/embedding.md).

-- The end user a connection was made for: the platform's id for them and a display name.
ALTER TABLE connections ADD COLUMN end_user_id TEXT;
ALTER TABLE connections ADD COLUMN end_user_name TEXT;
CREATE INDEX connections_by_end_user ON connections (team_id, end_user_id);

-- One session: what its hosted page may do. The token is only stored as its SHA-256 digest
-- (it is compared, never shown again). Lists are JSON arrays of strings; an empty
-- allowed_providers means every interactive provider of the catalog. opened_at: the token was
-- exchanged for the page's cookie (a token opens its page once), whose secret is stored as its
-- SHA-256 digest too (cookie_digest) next to the page's anti-CSRF token; connection_made: the one
-- connection the session made or reconnects, recorded at the first save; completed_at: when
-- that connection was granted.
CREATE TABLE connect_sessions (
    id                       TEXT PRIMARY KEY,
    team_id                  TEXT NOT NULL REFERENCES teams(id),
    token_digest             BYTEA NOT NULL UNIQUE,
    end_user_id              TEXT NOT NULL,
    end_user_name            TEXT,
    allowed_providers        TEXT NOT NULL,
    modules                  TEXT NOT NULL,
    scopes                   TEXT NOT NULL,
    connection_id            TEXT,
    return_url               TEXT,
    allowed_origins          TEXT NOT NULL,
    created_by               TEXT NOT NULL,
    created_at               BIGINT NOT NULL,
    expires_at               BIGINT NOT NULL,
    cookie_digest            BYTEA UNIQUE,
    csrf_token               TEXT,
    opened_at                BIGINT,
    completed_at             BIGINT,
    connection_made          TEXT
);
CREATE INDEX connect_sessions_by_team ON connect_sessions (team_id, created_at);
