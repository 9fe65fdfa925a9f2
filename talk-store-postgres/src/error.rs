//! Errors: [`ConnectError`] for connecting and migrating, and the private
//! [`Error`] every other failure goes through on its way to a [`StoreError`].

use std::sync::Arc;
use std::time::Duration;

use talk_core::store::StoreError;
use tokio_postgres::error::{Severity, SqlState};

/// A boxed error that keeps its source chain.
pub type BoxedError = Box<dyn std::error::Error + Send + Sync>;

/// Why [`PostgresStore::connect`](crate::PostgresStore::connect) or
/// [`PostgresNotifier::start`](crate::PostgresNotifier::start) failed. None
/// of these is retried by the crate; each says what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The connection string could not be parsed.
    #[error("invalid PostgreSQL connection string")]
    InvalidUrl(#[source] tokio_postgres::Error),
    /// The schema name is not one this crate accepts.
    #[error(
        "invalid schema name {0:?}: use 1-63 characters of A-Z a-z 0-9 _, not starting with a digit, and not starting with pg_"
    )]
    InvalidSchema(String),
    /// An option is out of range.
    #[error("invalid option: {0}")]
    InvalidOptions(&'static str),
    /// The server could not be reached, or refused the connection.
    #[error("cannot connect to the PostgreSQL server")]
    Connect(#[source] tokio_postgres::Error),
    /// No schema was given and the connection's `search_path` names no
    /// existing schema to work in.
    #[error(
        "the connection's search_path names no existing schema; set PostgresOptions::schema or the role's search_path"
    )]
    NoSchema,
    /// The database was migrated by a newer version of this crate: its
    /// schema is newer than any this version knows, so it is not touched.
    #[error(
        "schema {schema:?} has Talk schema version {found}, newer than {supported}, the newest this version of talk-store-postgres knows; upgrade talk-store-postgres on this node"
    )]
    TooNew {
        /// The PostgreSQL schema.
        schema: String,
        /// Its Talk schema version (the greatest in `talk_schema_version`).
        found: i64,
        /// The newest version this crate knows.
        supported: i64,
    },
    /// A migration failed; the schema stays at the version before the run.
    #[error("migrating schema {schema:?} to Talk schema version {version} failed")]
    Migration {
        /// The PostgreSQL schema.
        schema: String,
        /// The version whose migration failed.
        version: i64,
        /// What PostgreSQL said.
        #[source]
        source: tokio_postgres::Error,
    },
    /// Preparing the schema (creating it, locking, reading its version)
    /// failed.
    #[error("cannot prepare schema {schema:?}")]
    Setup {
        /// The PostgreSQL schema (as asked for; empty when none was).
        schema: String,
        /// What PostgreSQL said.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The connection pool could not be built.
    #[error("cannot build the connection pool")]
    Pool(#[source] BoxedError),
}

/// Every failure inside the store, before it becomes a [`StoreError`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("postgres: {}", describe(.0))]
    Postgres(#[from] tokio_postgres::Error),
    #[error("cannot get a connection from the pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("value out of range: {0}")]
    Range(&'static str),
    #[error(transparent)]
    Malformed(#[from] talk_core::store::MalformedChangeSet),
    #[error("unexpected value in column {column}: {why}")]
    Corrupt { column: &'static str, why: String },
    #[error("{0}")]
    Tail(String),
    #[error("the writer task stopped")]
    WriterStopped,
    #[error("the connection to the database closed")]
    ConnectionClosed,
    #[error("no answer from the database within {0:?}")]
    TimedOut(Duration),
    #[error("nothing of this change set's batch was applied; try again later: {0}")]
    NotApplied(Arc<Error>),
    #[error("the transaction of this change set's batch was rolled back, nothing of it was applied: {0}")]
    BatchRolledBack(Arc<Error>),
    #[error(
        "the connection was lost while the batch of this change set was committing: it may or may not have been applied: {0}"
    )]
    CommitUnknown(Arc<Error>),
}

impl Error {
    /// Whether trying again later may work, nothing having been applied: the
    /// session was lost, or the server gave up on a statement for a reason
    /// of the moment (see [`retry_later`]).
    pub(crate) fn retry_later(&self) -> bool {
        match self {
            Error::Postgres(error) => session_lost(error) || retry_later(error),
            Error::Pool(_)
            | Error::WriterStopped
            | Error::ConnectionClosed
            | Error::TimedOut(_)
            | Error::NotApplied(_) => true,
            _ => false,
        }
    }
}

impl From<Error> for StoreError {
    fn from(error: Error) -> Self {
        match error {
            // Nothing was applied, and later may work.
            Error::Pool(pool) => StoreError::Unavailable(format!("no database connection available: {pool}")),
            error if error.retry_later() => StoreError::Unavailable(error.to_string()),
            error @ Error::CommitUnknown(_) => StoreError::outcome_unknown(error),
            other => StoreError::backend(other),
        }
    }
}

/// A PostgreSQL error with what the server said, when it said something
/// (the error's own `Display` says only "db error").
fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{error}: {} {}: {}", db.severity(), db.code().code(), db.message()),
        None => error.to_string(),
    }
}

/// Whether the error ended the session (a lost connection, or a `FATAL`
/// such as an administrator's `pg_terminate_backend` or the server's
/// `idle_in_transaction_session_timeout`), rather than one statement.
pub(crate) fn session_lost(error: &tokio_postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    match error.as_db_error() {
        Some(db) => matches!(db.parsed_severity(), Some(Severity::Fatal | Severity::Panic)),
        // Reading or writing the socket failed.
        None => std::error::Error::source(error).is_some_and(|source| source.is::<std::io::Error>()),
    }
}

/// Whether the server refused a statement for a reason of the moment, the
/// statement (and with it its transaction or savepoint) rolled back: a
/// `statement_timeout` or `lock_timeout` that expired, a cancel request, a
/// serialization failure or a deadlock.
pub(crate) fn retry_later(error: &tokio_postgres::Error) -> bool {
    error.code().is_some_and(|code| {
        [
            SqlState::QUERY_CANCELED,
            SqlState::LOCK_NOT_AVAILABLE,
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
        ]
        .contains(code)
    })
}

/// A `u64` as stored (`bigint`).
pub(crate) fn to_i64(value: u64, what: &'static str) -> Result<i64, Error> {
    i64::try_from(value).map_err(|_| Error::Range(what))
}

/// A stored `bigint` that must not be negative.
pub(crate) fn to_u64(value: i64, column: &'static str) -> Result<u64, Error> {
    u64::try_from(value).map_err(|_| Error::Corrupt { column, why: format!("negative value {value}") })
}
