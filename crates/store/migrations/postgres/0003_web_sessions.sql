-- Web UI sessions (PostgreSQL). The browser holds a random 256-bit token in the `patchbay_session`
-- cookie; only its SHA-256 digest is stored, so a copy of this table cannot sign anyone in.
-- Times are Unix milliseconds. Keep this file's twin in ../sqlite identical in meaning.

CREATE TABLE web_sessions (
    token_hash    BYTEA PRIMARY KEY,
    team_id       TEXT NOT NULL REFERENCES teams(id),
    user_id       TEXT NOT NULL REFERENCES users(id),
    login         TEXT NOT NULL,
    role          TEXT NOT NULL,
    -- Echoed in every form of the session and compared on every POST (not a credential on its
    -- own: it is useless without the cookie).
    csrf_token    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    -- Sliding expiry, never later than created_at + the absolute session lifetime.
    expires_at    BIGINT NOT NULL
);
CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_at);
CREATE INDEX web_sessions_by_user ON web_sessions (user_id);
