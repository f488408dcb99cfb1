-- The change generation of a team: bumped, in the same transaction, by every write to what the
-- runtime hot path caches (API tokens apart from their last use, connections apart from the scheduler's bookkeeping columns,
-- secret fields). A node compares it with the generation its cached entries were read at, so a
-- revoked token or a deleted or reauthorized connection stops working at once on every node
-- (docs/benchmarks.md "Caches"). Keep this file's twin in ../sqlite identical in meaning.
--
-- Lock order: a transaction always writes its connection (or token) row before the trigger
-- updates the team row, and no transaction writes two connections' cached columns, so the team
-- row cannot take part in a deadlock.

ALTER TABLE teams ADD COLUMN change_generation BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION patchbay_bump_team_of_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE teams SET change_generation = change_generation + 1 WHERE id = NEW.team_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE teams SET change_generation = change_generation + 1 WHERE id = OLD.team_id;
    ELSE
        UPDATE teams SET change_generation = change_generation + 1 WHERE id IN (OLD.team_id, NEW.team_id);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION patchbay_bump_team_of_secret() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE teams SET change_generation = change_generation + 1
         WHERE id = (SELECT team_id FROM connections WHERE id = NEW.connection_id);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE teams SET change_generation = change_generation + 1
         WHERE id = (SELECT team_id FROM connections WHERE id = OLD.connection_id);
    ELSE
        UPDATE teams SET change_generation = change_generation + 1
         WHERE id IN (SELECT team_id FROM connections WHERE id IN (OLD.connection_id, NEW.connection_id));
    END IF;
    RETURN NULL;
END $$;

-- Every column but last_used_at (written at most once a minute per token, housekeeping).
CREATE TRIGGER api_tokens_bump AFTER INSERT OR DELETE OR UPDATE OF
    id, team_id, name, role, token_hash, created_at, expires_at, scenarios, connections
    ON api_tokens FOR EACH ROW EXECUTE FUNCTION patchbay_bump_team_of_row();
-- Every column but next_action_at and warned_days (the scheduler's claims and warnings).
CREATE TRIGGER connections_bump AFTER INSERT OR DELETE OR UPDATE OF
    id, team_id, provider, name, status, status_reason, account, granted_scopes, settings,
    credential_fingerprint, expires_at, reauthorize_by, last_verify, created_at, updated_at,
    generation, lease_owner, lease_until, refresh_state, failure_count, last_refreshed_at,
    requested_scopes, account_id, last_authorization
    ON connections FOR EACH ROW EXECUTE FUNCTION patchbay_bump_team_of_row();
CREATE TRIGGER connection_secrets_bump AFTER INSERT OR UPDATE OR DELETE ON connection_secrets
    FOR EACH ROW EXECUTE FUNCTION patchbay_bump_team_of_secret();
