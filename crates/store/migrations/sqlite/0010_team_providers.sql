-- Team providers (sqlite; twin in ../postgres): OAuth servers a team connected by URL
-- (discovery, issue 16). definition is the provider model as JSON, never with a secret; the
-- client secret a registration issued is sealed under the team's data key like any credential.
CREATE TABLE team_providers (
    team_id        TEXT NOT NULL,
    id             TEXT NOT NULL,
    definition     TEXT NOT NULL,
    source_url     TEXT NOT NULL,
    registered     INTEGER NOT NULL,
    client_secret  BLOB,
    discovered_at  INTEGER NOT NULL,
    PRIMARY KEY (team_id, id)
);
