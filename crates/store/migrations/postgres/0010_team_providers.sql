-- Team providers (postgres; twin in ../sqlite): OAuth servers a team connected by URL
-- (discovery, issue 16). definition is the provider model as JSON, never with a secret; the
-- client secret a registration issued is sealed under the team's data key like any credential.
CREATE TABLE team_providers (
    team_id        TEXT NOT NULL,
    id             TEXT NOT NULL,
    definition     TEXT NOT NULL,
    source_url     TEXT NOT NULL,
    registered     BIGINT NOT NULL,
    client_secret  BYTEA,
    discovered_at  BIGINT NOT NULL,
    PRIMARY KEY (team_id, id)
);
