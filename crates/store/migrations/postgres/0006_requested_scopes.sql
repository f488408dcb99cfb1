-- What a connection was created for (docs/api.md, `requested_scopes`): the scopes asked for that
-- no grant has covered yet, space-separated like granted_scopes. Kept across a denied or abandoned consent.
-- (postgres; twin in ../sqlite)
ALTER TABLE connections ADD COLUMN requested_scopes TEXT NOT NULL DEFAULT '';
