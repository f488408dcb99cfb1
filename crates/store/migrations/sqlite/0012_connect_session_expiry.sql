-- Connect sessions that ran out unused (sqlite; twin in ../postgres): expired_at is set once, by
-- the node whose sweep claimed the row, so each expiry is audited exactly once in the cluster.
ALTER TABLE connect_sessions ADD COLUMN expired_at INTEGER;
