//! Opening a database: the lock file that keeps it to one store, the write
//! and read connections with their settings, and the [`OpenError`] that
//! says what is wrong with a file SQLite refused.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::OpenError;
use crate::options::SqliteOptions;
use crate::sql;

/// The lock file of a database: `<database>-lock`, next to SQLite's own
/// `-wal` and `-shm` files.
pub fn lock_file_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-lock");
    PathBuf::from(name)
}

/// Takes the database's lock file, held with an OS file lock for as long as
/// the store is open; the OS releases it when the process ends, however it
/// ends.
pub(crate) fn take_lock(database: &Path) -> Result<File, OpenError> {
    let lock = lock_file_path(database);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock)
        .map_err(|source| OpenError::LockFile { lock: lock.clone(), source })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(OpenError::Locked { path: database.to_owned(), lock }),
        Err(TryLockError::Error(source)) => Err(OpenError::LockFile { lock, source }),
    }
}

/// Turns an SQLite error met while opening into the [`OpenError`] that says
/// what is wrong with the file.
pub(crate) fn classify_open_error(path: &Path, error: rusqlite::Error) -> OpenError {
    let path = path.to_owned();
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            OpenError::NotADatabase { path, source: error.into() }
        }
        Some(ErrorCode::ReadOnly) => OpenError::ReadOnly { path, source: Some(error.into()) },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => OpenError::Busy { path, source: error.into() },
        _ => OpenError::Sqlite { path, source: error.into() },
    }
}

/// Opens a connection with the settings every connection of the store has.
fn connect(path: &Path, flags: OpenFlags, options: &SqliteOptions) -> Result<Connection, OpenError> {
    let sqlite = |source| classify_open_error(path, source);
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(sqlite)?;
    conn.busy_timeout(options.busy_timeout).map_err(sqlite)?;
    conn.set_prepared_statement_cache_capacity(sql::STATEMENT_CACHE);
    Ok(conn)
}

/// Opens and sets up the write connection.
pub(crate) fn open_writer(path: &Path, options: &SqliteOptions) -> Result<Connection, OpenError> {
    let sqlite = |source| classify_open_error(path, source);
    let conn = connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE, options)?;
    // Reading the header first makes a file that is not a database say so.
    conn.query_row("PRAGMA schema_version", [], |_| Ok(())).map_err(sqlite)?;
    if conn.is_readonly("main").map_err(sqlite)? {
        return Err(OpenError::ReadOnly { path: path.to_owned(), source: None });
    }
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)).map_err(sqlite)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(OpenError::Sqlite {
            path: path.to_owned(),
            source: format!("cannot switch the database to WAL mode (it stays in {mode} mode)").into(),
        });
    }
    conn.pragma_update(None, "synchronous", options.synchronous.pragma()).map_err(sqlite)?;
    conn.pragma_update(None, "temp_store", "MEMORY").map_err(sqlite)?;
    // Deleted content (a deleted message's text, the payloads redaction
    // rewrote) is overwritten with zeros, in its page and in freed pages,
    // rather than left in the file.
    conn.pragma_update(None, "secure_delete", "ON").map_err(sqlite)?;
    // After a checkpoint, the WAL file is truncated back to this size.
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024).map_err(sqlite)?;
    Ok(conn)
}

/// Opens one read-only connection.
pub(crate) fn open_reader(path: &Path, options: &SqliteOptions) -> Result<Connection, OpenError> {
    let conn = connect(path, OpenFlags::SQLITE_OPEN_READ_ONLY, options)?;
    rusqlite::vtab::array::load_module(&conn).map_err(|source| classify_open_error(path, source))?;
    Ok(conn)
}
