-- Delete receipts kept for the web UI (PostgreSQL). The UI's Delete answers with a redirect to a page
-- that shows the receipt, so a reload does not post the delete again; the receipt waits here for
-- that page. Only the session that deleted (its binding: the SHA-256 hex of its token, the value
-- OAuth flows are bound with) in the same team reads it, for a few minutes; the body is the
-- receipt's JSON, metadata only, never a secret. Keep this file's twin in ../sqlite identical in
-- meaning.

CREATE TABLE kept_receipts (
    session_binding TEXT NOT NULL,
    connection_id   TEXT NOT NULL,
    team_id         TEXT NOT NULL REFERENCES teams(id),
    body            TEXT NOT NULL,
    expires_at      BIGINT NOT NULL,
    PRIMARY KEY (session_binding, connection_id)
);
CREATE INDEX kept_receipts_by_expiry ON kept_receipts (expires_at);
