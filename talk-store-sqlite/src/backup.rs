//! Online backup: SQLite's backup API, run from a read connection of the
//! store, so the writer goes on committing meanwhile.

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use rusqlite::backup::{Backup, StepResult};

use crate::error::Error;

/// Copies the database `conn` reads into a new database file at
/// `destination`, as of one snapshot: the copy is written next to it under
/// a temporary name (`<destination>-partial`), then renamed, so that
/// `destination` appears only once it is complete. Refuses a `destination`
/// that exists.
///
/// The copy is made in one step, in one read transaction: in WAL mode it
/// never blocks the writer, whereas a copy in several steps would start
/// over after every commit of the writer in between.
pub(crate) fn backup(conn: &Connection, destination: &Path) -> Result<(), Error> {
    if destination.exists() {
        return Err(file_error("refusing to overwrite", destination, std::io::ErrorKind::AlreadyExists.into()));
    }
    let partial = partial_path(destination);
    match std::fs::remove_file(&partial) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            return Err(file_error("cannot remove the leftover", &partial, error));
        }
        _ => {}
    }
    let copied = copy(conn, &partial).and_then(|()| {
        std::fs::rename(&partial, destination).map_err(|error| file_error("cannot rename", &partial, error))
    });
    if copied.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    copied
}

fn file_error(what: &'static str, path: &Path, source: std::io::Error) -> Error {
    Error::BackupFile { what, path: path.to_owned(), source }
}

/// Where the copy is made before it is complete.
fn partial_path(destination: &Path) -> PathBuf {
    let mut name = destination.as_os_str().to_owned();
    name.push("-partial");
    PathBuf::from(name)
}

/// Copies every page of `conn`'s database into a new database at `path`,
/// and closes it (its commit is synced: `synchronous=FULL`).
fn copy(conn: &Connection, path: &Path) -> Result<(), Error> {
    let mut copy = Connection::open(path)?;
    let step = Backup::new(conn, &mut copy)?.step(-1)?;
    if step != StepResult::Done {
        let code = if step == StepResult::Locked { rusqlite::ffi::SQLITE_LOCKED } else { rusqlite::ffi::SQLITE_BUSY };
        return Err(rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None).into());
    }
    copy.close().map_err(|(_, error)| error)?;
    Ok(())
}
