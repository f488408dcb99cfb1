//! Store errors: a closed set the service maps to user-facing outcomes. Driver errors are kept
//! as text for the log; they never contain bound values, so no secret can leak through them.

/// What went wrong in the database layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is unusable.
    #[error("{0}")]
    BadUrl(String),
    /// Could not open the database.
    #[error("cannot open the database: {0}")]
    Connect(String),
    /// Migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(String),
    /// A unique name or key is already used.
    #[error("already exists: {0}")]
    Conflict(&'static str),
    /// A stored value could not be read back (corrupt row).
    #[error("a stored row is unreadable: {0}")]
    Corrupt(String),
    /// The database cannot be reached right now (server down, restarting or failing over, no
    /// free connection within the acquire timeout). Retrying later may succeed; nothing of the
    /// failed statement was committed unless the connection broke during the commit itself.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Any other driver error.
    #[error("database error: {0}")]
    Database(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if is_unavailable(&e) { StoreError::Unavailable(e.to_string()) } else { StoreError::Database(e.to_string()) }
    }
}

/// Whether a driver error means "the database is not reachable" rather than "this statement is
/// wrong": the pool could not hand out a connection in time, the socket failed, or PostgreSQL
/// said it is shutting down, starting up, read-only after a failover, or out of connections.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        // Bytes that are not the protocol: a proxy in front of the database (HAProxy, PgBouncer)
        // accepted the connection and closed it, because no server behind it is up (a failover).
        sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| unavailable_sqlstate(&code)),
        _ => false,
    }
}

/// SQLSTATEs of an unreachable or unusable server: class 08 (connection exception), 57P01-57P03
/// (admin/crash shutdown, cannot connect now), 53300 (too many connections) and 25006 (read-only
/// transaction: this node talks to a standby, e.g. the old primary after a failover).
fn unavailable_sqlstate(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300" | "25006")
}

/// Maps a unique-constraint violation to [`StoreError::Conflict`] naming what clashed.
pub(crate) fn conflict_or(e: sqlx::Error, what: &'static str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_unavailable_and_statement_errors_are_not() {
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(is_unavailable(&sqlx::Error::PoolClosed));
        assert!(is_unavailable(&sqlx::Error::Protocol("unexpected response from SSLRequest: 0x00".into())));
        assert!(is_unavailable(&sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
        assert!(!is_unavailable(&sqlx::Error::ColumnNotFound("x".into())));
        for code in ["08006", "08001", "57P01", "57P03", "53300", "25006"] {
            assert!(unavailable_sqlstate(code), "{code}");
        }
        for code in ["23505", "40001", "42P01"] {
            assert!(!unavailable_sqlstate(code), "{code}");
        }
    }

    #[test]
    fn unavailable_errors_convert_to_their_own_variant() {
        assert!(matches!(StoreError::from(sqlx::Error::PoolTimedOut), StoreError::Unavailable(_)));
        assert!(matches!(StoreError::from(sqlx::Error::RowNotFound), StoreError::Database(_)));
    }
}
