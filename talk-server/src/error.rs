//! Why the server could not start (or stop cleanly, or make a backup), each
//! case told as one sentence that names the thing at fault and the flag that
//! fixes it.

use std::fmt;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use talk_core::store::StoreError;
use talk_store_postgres::ConnectError;
use talk_store_sqlite::OpenError;

/// What is wrong with an agents file or a tokens file.
#[derive(Debug)]
pub(crate) enum FileProblem {
    /// It cannot be read.
    Read(std::io::Error),
    /// A line (counted from 1) is not `ID=TOKEN`.
    Line { number: usize, why: String },
    /// It names no agent.
    Empty,
    /// It cannot be written.
    Write(std::io::Error),
}

/// Why the server did not start.
#[derive(Debug)]
pub(crate) enum StartupError {
    /// The tokio runtime could not be made.
    Runtime(std::io::Error),
    /// The address of `--listen` cannot be listened on.
    Listen { address: SocketAddr, source: std::io::Error },
    /// The SQLite database of `--db` cannot be opened.
    Sqlite { db: String, source: OpenError },
    /// The PostgreSQL database of `--postgres` cannot be used.
    Postgres { url: String, source: ConnectError },
    /// A file of `--agents-file`.
    AgentsFile { path: PathBuf, problem: FileProblem },
    /// The tokens file (`--tokens-file`, or beside the database).
    TokensFile { path: PathBuf, problem: FileProblem },
    /// The server stopped on an I/O error after it started.
    Serve(std::io::Error),
    /// The SQLite database of `--db` could not be closed cleanly at the end.
    Close { db: String, source: StoreError },
    /// `--backup` of the database of `--db` failed.
    Backup { db: String, copy: PathBuf, problem: BackupProblem },
}

/// Why `--backup` made no copy.
#[derive(Debug)]
pub(crate) enum BackupProblem {
    /// `--db :memory:`: there is no file to copy.
    InMemory,
    /// The database file does not exist.
    NoDatabase,
    /// The file of `--backup` exists already.
    Exists,
    /// The copy failed.
    Failed(StoreError),
}

/// An error and its sources, as words inside a sentence: `a: b: c`, each
/// message once, without the `(os error N)` of I/O errors.
struct Cause<'a>(&'a (dyn std::error::Error + 'static));

impl fmt::Display for Cause<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        let mut next = Some(self.0);
        while let Some(error) = next {
            let message = error.to_string();
            let message = match message.rfind(" (os error ") {
                Some(at) if message.ends_with(')') => message[..at].to_owned(),
                _ => message,
            };
            if !message.is_empty() && !text.contains(&message) {
                if !text.is_empty() {
                    text.push_str(": ");
                }
                // "No such file…" reads "no such file…" inside a sentence; "SQLite…" stays.
                let mut chars = message.chars();
                match (chars.next(), chars.next()) {
                    (Some(first), Some(second)) if first.is_uppercase() && second.is_lowercase() => {
                        text.extend(first.to_lowercase());
                        text.push_str(&message[first.len_utf8()..]);
                    }
                    _ => text.push_str(&message),
                }
            }
            next = error.source();
        }
        f.write_str(&text)
    }
}

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Runtime(source) => write!(
                f,
                "cannot start the server's runtime ({}); free some memory or threads and start again",
                Cause(source)
            ),
            Self::Listen { address, source } => listen(f, *address, source),
            Self::Sqlite { db, source } => sqlite(f, db, source),
            Self::Postgres { url, source } => postgres(f, url, source),
            Self::AgentsFile { path, problem } => {
                file(f, "agents file", path, problem, "or give another file to --agents-file")
            }
            Self::TokensFile { path, problem } => file(
                f,
                "tokens file",
                path,
                problem,
                "delete it to get new tokens, or name another file with --tokens-file",
            ),
            Self::Serve(source) => write!(f, "the server stopped ({}); start it again", Cause(source)),
            Self::Close { db, source } => write!(
                f,
                "the database {db} was not closed cleanly ({}); nothing committed is lost (keep {db}-wal beside it: the next start reads it), start the server again to finish",
                Cause(source)
            ),
            Self::Backup { db, copy, problem } => backup(f, db, &copy.display().to_string(), problem),
        }
    }
}

/// A problem with the `what` at `path`, and `fix`, the end of the sentence.
fn file(f: &mut fmt::Formatter<'_>, what: &str, path: &Path, problem: &FileProblem, fix: &str) -> fmt::Result {
    let path = path.display();
    match problem {
        FileProblem::Read(source) => {
            write!(f, "cannot read the {what} {path} ({}); check its path and permissions, {fix}", Cause(source))
        }
        FileProblem::Line { number, why } => {
            write!(f, "line {number} of the {what} {path} is wrong ({why}); fix that line, {fix}")
        }
        FileProblem::Empty => write!(f, "the {what} {path} names no agent; add ID=TOKEN lines to it, {fix}"),
        FileProblem::Write(source) => write!(
            f,
            "cannot write the {what} {path} ({}); check that its directory exists and is writable, {fix}",
            Cause(source)
        ),
    }
}

fn backup(f: &mut fmt::Formatter<'_>, db: &str, copy: &str, problem: &BackupProblem) -> fmt::Result {
    match problem {
        BackupProblem::InMemory => {
            write!(
                f,
                "--backup copies a database file, and --db {db} keeps everything in memory; name the file with --db"
            )
        }
        BackupProblem::NoDatabase => write!(f, "there is no database {db} to back up; name it with --db"),
        BackupProblem::Exists => {
            write!(f, "{copy} exists already and is never overwritten; give --backup the path of a new file")
        }
        BackupProblem::Failed(source) => write!(
            f,
            "cannot back up the database {db} into {copy} ({}); check --db, and that the directory of --backup exists and is writable",
            Cause(source)
        ),
    }
}

fn listen(f: &mut fmt::Formatter<'_>, address: SocketAddr, source: &std::io::Error) -> fmt::Result {
    let port = address.port();
    let mut next = address;
    next.set_port(if port == 0 || port == u16::MAX { 8081 } else { port + 1 });
    match source.kind() {
        ErrorKind::AddrInUse => write!(
            f,
            "cannot listen on {address}: another program already uses that address; stop it, or pick another address with --listen (for example --listen {next})"
        ),
        ErrorKind::AddrNotAvailable => write!(
            f,
            "cannot listen on {address}: that address is not one of this machine's; pick another with --listen (for example --listen 127.0.0.1:{port})"
        ),
        ErrorKind::PermissionDenied => write!(
            f,
            "cannot listen on {address}: this user may not use port {port}; pick a port above 1023 with --listen (for example --listen {}:8080)",
            address.ip()
        ),
        _ => write!(f, "cannot listen on {address} ({}); pick another address with --listen", Cause(source)),
    }
}

fn sqlite(f: &mut fmt::Formatter<'_>, db: &str, error: &OpenError) -> fmt::Result {
    const FIX: &str = "or pick another database with --db";
    match error {
        OpenError::Locked { .. } => {
            write!(f, "the database {db} is already in use by another Talk server; stop that server, {FIX}")
        }
        OpenError::LockFile { lock, source } => write!(
            f,
            "cannot create the lock file {} beside the database {db} ({}); check that its directory exists and is writable, {FIX}",
            lock.display(),
            Cause(source)
        ),
        OpenError::NotADatabase { .. } => {
            write!(f, "{db} is not an SQLite database, or it is damaged; move it away, {FIX}")
        }
        OpenError::ReadOnly { .. } => write!(
            f,
            "the database {db} cannot be written here; check the permissions of the file and of its directory, {FIX}"
        ),
        OpenError::Busy { .. } => {
            write!(f, "the database {db} is locked by another program; close that program, {FIX}")
        }
        OpenError::TooNew { found, supported, .. } => write!(
            f,
            "the database {db} was written by a newer Talk (schema version {found}, this server knows up to {supported}); run a newer server on it, {FIX}"
        ),
        OpenError::Migration { version, source, .. } => write!(
            f,
            "upgrading the database {db} to schema version {version} failed ({}); restore it from a backup, {FIX}",
            Cause(&**source)
        ),
        OpenError::Sqlite { source, .. } => {
            write!(f, "cannot open the database {db} ({}); check the path, {FIX}", Cause(&**source))
        }
        OpenError::Thread(source) => write!(
            f,
            "cannot start the writer thread of the database {db} ({}); free some memory or threads and start again",
            Cause(source)
        ),
        other => write!(f, "cannot open the database {db} ({}); check the path, {FIX}", Cause(other)),
    }
}

fn postgres(f: &mut fmt::Formatter<'_>, url: &str, error: &ConnectError) -> fmt::Result {
    const SCHEMA_FIX: &str = "or pick another schema with --postgres-schema";
    match error {
        ConnectError::InvalidUrl(source) => write!(
            f,
            "the PostgreSQL URL given to --postgres is not valid ({}); write it as postgres://user:password@host:port/database",
            Cause(source)
        ),
        ConnectError::InvalidSchema(schema) => write!(
            f,
            "{schema:?} is not a schema name Talk accepts; give --postgres-schema 1 to 63 letters, digits and _, not starting with a digit or pg_"
        ),
        ConnectError::Connect(source) => write!(
            f,
            "cannot connect to the PostgreSQL server at {url} ({}); check that it runs and that --postgres names it",
            Cause(source)
        ),
        ConnectError::NoSchema => write!(
            f,
            "the connection to PostgreSQL at {url} has no current schema to work in; name one with --postgres-schema (for example --postgres-schema talk)"
        ),
        ConnectError::TooNew { schema, found, supported } => write!(
            f,
            "schema {schema} of PostgreSQL at {url} was written by a newer Talk (schema version {found}, this server knows up to {supported}); run a newer server on it, {SCHEMA_FIX}"
        ),
        ConnectError::Migration { schema, version, source } => write!(
            f,
            "upgrading schema {schema} of PostgreSQL at {url} to Talk schema version {version} failed ({}); check the role's rights, {SCHEMA_FIX}",
            Cause(source)
        ),
        ConnectError::Setup { schema, source } => write!(
            f,
            "cannot prepare schema {schema:?} of PostgreSQL at {url} ({}); check that the role may create and use it, {SCHEMA_FIX}",
            Cause(source)
        ),
        other => write!(f, "cannot use PostgreSQL at {url} ({}); check --postgres", Cause(other)),
    }
}
