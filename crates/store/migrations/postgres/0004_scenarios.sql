-- Scenarios and their steps (PostgreSQL; twin in ../sqlite). A step's connection is what makes a
-- connection's required scopes; the index finds a connection's users without a scan.

CREATE TABLE scenarios (
    id          TEXT PRIMARY KEY,
    team_id     TEXT NOT NULL REFERENCES teams(id),
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (team_id, name)
);

CREATE TABLE scenario_steps (
    scenario_id    TEXT NOT NULL REFERENCES scenarios(id) ON DELETE CASCADE,
    position       BIGINT NOT NULL,
    module         TEXT NOT NULL,
    connection_id  TEXT,
    PRIMARY KEY (scenario_id, position)
);
CREATE INDEX scenario_steps_by_connection ON scenario_steps (connection_id);
