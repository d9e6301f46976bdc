//! The backend's error type: storage failures become domain errors where they mean one.

/// Why a backend call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database URL names no engine Settle supports.
    #[error("unsupported database URL (use sqlite:PATH or postgres://...): {0}")]
    UnsupportedUrl(String),
    /// The database failed or refused the statement.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A ledger rule was broken (wrong sign, reused key, wrong currency).
    #[error(transparent)]
    Ledger(#[from] domain::ledger::LedgerError),
    /// The account, agency or row asked for does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Stored data that no longer parses into a domain type.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// A request the backend refuses (a second active hold, a looser policy...).
    #[error("{0}")]
    Invalid(String),
    /// An outside service (the payment processor) did not answer as needed, or the
    /// process is shutting down.
    #[error("{0}")]
    Unavailable(String),
    /// The placement file cannot be imported at all (missing columns, unreadable).
    #[error("{0}")]
    ImportFile(String),
}

/// The backend's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
