//! Errors: [`OpenError`] for opening a database, and the private [`Error`]
//! every other failure goes through on its way to a [`StoreError`].

use std::path::PathBuf;
use std::sync::Arc;

use rusqlite::ErrorCode;
use talk_core::store::StoreError;

/// Why [`SqliteStore::open`](crate::SqliteStore::open) refused a database.
/// Every case names the path; none panics.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// Another [`SqliteStore`](crate::SqliteStore), in this process or
    /// another, holds the database's lock file: one writer per database.
    #[error(
        "database {path} is already open by another Talk store (the lock file {lock} is held by another process or store); close that one first"
    )]
    Locked {
        /// The database.
        path: PathBuf,
        /// The lock file.
        lock: PathBuf,
    },
    /// The lock file next to the database could not be created or locked:
    /// typically a read-only or missing directory.
    #[error("cannot create or lock {lock} (is the directory writable and does it exist?)")]
    LockFile {
        /// The lock file.
        lock: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not an SQLite database (or is damaged beyond opening).
    #[error("{path} is not an SQLite database, or it is corrupt")]
    NotADatabase {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: BoxedError,
    },
    /// The database (or its directory, where SQLite keeps the WAL) cannot be
    /// written.
    #[error("database {path} is read-only here (check the permissions of the file and of its directory)")]
    ReadOnly {
        /// The database.
        path: PathBuf,
        /// What SQLite said, if it said anything.
        #[source]
        source: Option<BoxedError>,
    },
    /// Another program holds an SQLite lock on the database longer than the
    /// busy timeout.
    #[error("database {path} is locked by another connection")]
    Busy {
        /// The database.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: BoxedError,
    },
    /// The database was written by a newer version of this crate: its schema
    /// is newer than any this version knows, so it is not touched.
    #[error(
        "database {path} has schema version {found}, newer than {supported}, the newest this version of talk-store-sqlite knows; upgrade talk-store-sqlite to open it"
    )]
    TooNew {
        /// The database.
        path: PathBuf,
        /// Its schema version (`PRAGMA user_version`).
        found: i64,
        /// The newest schema version this crate knows.
        supported: i64,
    },
    /// A schema migration failed; the database stays at the version before it.
    #[error("migrating database {path} to schema version {version} failed")]
    Migration {
        /// The database.
        path: PathBuf,
        /// The version whose migration failed.
        version: i64,
        /// What SQLite said.
        #[source]
        source: BoxedError,
    },
    /// Any other failure of SQLite or the file system while opening.
    #[error("cannot open database {path}")]
    Sqlite {
        /// The database.
        path: PathBuf,
        /// What failed.
        #[source]
        source: BoxedError,
    },
    /// The writer thread could not be started.
    #[error("cannot start the writer thread")]
    Thread(#[source] std::io::Error),
}

/// A boxed error that keeps its source chain.
pub type BoxedError = Box<dyn std::error::Error + Send + Sync>;

/// Every failure inside the store, before it becomes a [`StoreError`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("value out of range: {0}")]
    Range(&'static str),
    #[error(transparent)]
    Malformed(#[from] talk_core::store::MalformedChangeSet),
    #[error("the writer thread stopped{}", .0.as_deref().map(|why| format!(": {why}")).unwrap_or_default())]
    WriterStopped(Option<String>),
    #[error("the store is closed")]
    Closed,
    #[error("a read task failed: {0}")]
    ReadTask(String),
    #[error("the transaction of this change set's batch was rolled back, nothing of it was applied: {0}")]
    BatchRolledBack(Arc<Error>),
    #[error("the commit of this change set's batch failed after it may have reached the disk: {0}")]
    CommitOutcomeUnknown(Arc<Error>),
    #[error("the answer to a committed change set was lost: {0}")]
    AnswerLost(Arc<Error>),
    #[error("the checkpoint could not copy the whole WAL into the database file: a read was under way")]
    CheckpointBusy,
    #[error("backup: {what} {path}: {source}")]
    BackupFile {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[cfg(feature = "fault-injection")]
    #[error("injected by a test: {0}")]
    Injected(&'static str),
}

impl Error {
    /// SQLite's error code, for an error of SQLite.
    pub(crate) fn sqlite_code(&self) -> Option<ErrorCode> {
        match self {
            Self::Sqlite(error) => error.sqlite_error_code(),
            _ => None,
        }
    }

    /// Whether the failure is of the moment (the database is busy, the disk
    /// full or failing, the store closed) and applied nothing: the caller
    /// may retry later.
    fn is_transient(&self) -> bool {
        match self {
            Self::Closed => true,
            Self::BatchRolledBack(cause) => cause.is_transient(),
            _ => matches!(
                self.sqlite_code(),
                Some(ErrorCode::DatabaseBusy | ErrorCode::DiskFull | ErrorCode::SystemIoFailure)
            ),
        }
    }
}

/// A commit of unknown outcome is [`StoreError::OutcomeUnknown`]; a failure
/// of the moment that applied nothing (`SQLITE_BUSY`, `SQLITE_FULL`,
/// `SQLITE_IOERR…`, a closed store) is [`StoreError::Unavailable`] (HTTP
/// 503); anything else is [`StoreError::Backend`].
impl From<Error> for StoreError {
    fn from(error: Error) -> Self {
        if matches!(error, Error::CommitOutcomeUnknown(_)) {
            StoreError::outcome_unknown(error)
        } else if error.is_transient() {
            StoreError::Unavailable(error.to_string())
        } else {
            StoreError::backend(error)
        }
    }
}

/// `Ok(u64)` from a stored `i64` that must not be negative.
pub(crate) fn to_u64(value: i64, what: &'static str) -> Result<u64, Error> {
    u64::try_from(value).map_err(|_| Error::Range(what))
}

/// A stored `i64` from a `u64`.
pub(crate) fn to_i64(value: u64, what: &'static str) -> Result<i64, Error> {
    i64::try_from(value).map_err(|_| Error::Range(what))
}
