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
    /// Any other driver error.
    #[error("database error: {0}")]
    Database(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

/// Maps a unique-constraint violation to [`StoreError::Conflict`] naming what clashed.
pub(crate) fn conflict_or(e: sqlx::Error, what: &'static str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => e.into(),
    }
}
