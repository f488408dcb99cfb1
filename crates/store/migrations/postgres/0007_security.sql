-- Security hardening (postgres; twin in ../sqlite): the stable account id a
-- connection is pinned to, the history of every grant a connection held, and API tokens that
-- expire, record their last use and can be bound to scenarios or connections.

-- The provider's stable account id (verify.account_id); a reauthorize must prove the same one.
ALTER TABLE connections ADD COLUMN account_id TEXT;
-- The outcome of the last consent callback (JSON {outcome, reason, at}), shown by the API.
ALTER TABLE connections ADD COLUMN last_authorization TEXT;

-- Every grant Patchbay held for a connection, kept after the connection is deleted (records
-- only, never a token). state: current (the connection's credential), revoked (confirmed at
-- the provider), pending (revocation queued for retry), live (still valid at the provider;
-- detail says why and what to do).
CREATE TABLE connection_grants (
    id             BIGSERIAL PRIMARY KEY,
    team_id        TEXT NOT NULL,
    connection_id  TEXT NOT NULL,
    obtained_at    BIGINT NOT NULL,
    replaced_at    BIGINT,
    state          TEXT NOT NULL,
    detail         TEXT
);
CREATE INDEX connection_grants_by_connection ON connection_grants (team_id, connection_id, id);

-- Connections that already hold tokens start with one current grant.
INSERT INTO connection_grants (team_id, connection_id, obtained_at, state)
SELECT c.team_id, c.id, c.updated_at, 'current' FROM connections c
WHERE EXISTS (SELECT 1 FROM connection_secrets s WHERE s.connection_id = c.id AND s.field = 'access_token');

-- Which grant a queued revocation belongs to (NULL for revocations queued before this).
ALTER TABLE pending_revocations ADD COLUMN grant_id BIGINT;

-- NULL: never expires / never used / not bound. scenarios and connections are space-separated
-- id lists; a token with either is bound (least privilege for runtime executors).
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE api_tokens ADD COLUMN last_used_at BIGINT;
ALTER TABLE api_tokens ADD COLUMN scenarios TEXT;
ALTER TABLE api_tokens ADD COLUMN connections TEXT;
