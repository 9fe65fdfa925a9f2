//! Fail points (feature `fault-injection`, for tests only): places inside
//! the writer where a test makes a change set, a whole batch or its
//! `COMMIT` fail, a way to hold the writer so that several change sets form
//! one batch, and a real full disk.
//!
//! ```no_run
//! # fn demo(store: &talk_store_sqlite::SqliteStore) {
//! use talk_store_sqlite::faults::{FailPoint, Failure};
//!
//! // The second change set of each batch fails after its first write.
//! store.fail_points().arm_when(FailPoint::AfterWrite(1), Failure::DiskFull, |index| index == 1);
//! # }
//! ```

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use rusqlite::Connection;
use rusqlite::ffi;
use talk_testing::faults::FailPoints;
use tokio::sync::mpsc;

use crate::error::Error;
use crate::sql;
use crate::writer::{Command, Shared, WRITER_THREAD, exec};

/// A point of the writer where a test can make it fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailPoint {
    /// Inside a change set's savepoint, after its guards held and its `seq`
    /// values were taken, after its first `k` writes (`0 ≤ k ≤` writes).
    AfterWrite(usize),
    /// Inside a change set's savepoint, after all its writes and its first
    /// `k` events (`1 ≤ k ≤` events; `k` = events is just before `RELEASE`).
    AfterEvent(usize),
    /// After every change set of the batch, before `COMMIT`.
    BeforeCommit,
    /// `COMMIT` fails before it wrote anything: nothing of the batch is
    /// committed. With [`Failure::Busy`] SQLite keeps the transaction open
    /// (as it does when `COMMIT` cannot take its lock); with any other
    /// failure it has rolled the transaction back, as it does whenever
    /// `COMMIT` fails otherwise, so the store cannot tell from SQLite's
    /// answer whether the commit reached the disk.
    CommitBeforeDisk,
    /// `COMMIT` wrote the batch to the WAL, then failed (its `fsync`, say):
    /// SQLite answers an error and has rolled its transaction back, but the
    /// batch is committed and readable, as when recovery replays such a
    /// commit. Every failure but [`Failure::Error`] and [`Failure::Panic`]
    /// answers `SQLITE_IOERR_FSYNC` here.
    CommitAfterDisk,
    /// After `COMMIT`, before the callers are answered: the batch is
    /// committed, the answers are lost.
    AfterCommit,
}

/// What a [`FailPoint`] does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Failure {
    /// An error that is not SQLite's.
    Error,
    /// `SQLITE_FULL`, as SQLite reports a full disk: at a change-set point,
    /// the change set fails alone (its savepoint is rolled back).
    DiskFull,
    /// `SQLITE_IOERR`, with the transaction still open.
    IoError,
    /// `SQLITE_IOERR` after SQLite rolled back the whole transaction, as it
    /// does on some I/O errors: every change set of the batch fails.
    IoErrorRollsBack,
    /// `SQLITE_BUSY`, with the transaction still open: another connection
    /// holds a lock longer than the busy timeout.
    Busy,
    /// The writer thread panics: the store stops taking writes.
    Panic,
}

/// What the writer shares with [`SqliteFailPoints`].
#[derive(Default)]
pub(crate) struct FaultState {
    pub(crate) points: FailPoints<FailPoint, Failure>,
    gate: Mutex<Gate>,
    opened: Condvar,
}

#[derive(Default)]
struct Gate {
    /// Whether the writer must wait before its next batch.
    held: bool,
    /// Whether it is waiting, with the first command of the batch in hand.
    waiting: bool,
    /// A change of `max_page_count` to make before the next batch.
    page_limit: Option<bool>,
    /// `max_page_count` before the first limit.
    original_page_count: Option<i64>,
}

impl FaultState {
    fn gate(&self) -> MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a test holds the writer: change sets then queue for it.
    pub(crate) fn is_held(&self) -> bool {
        self.gate().held
    }

    /// Called by the writer with the first command of a batch in hand:
    /// waits while the writer is held, then makes a pending change of the
    /// page limit.
    pub(crate) fn before_batch(&self, conn: &Connection) {
        let mut gate = self.gate();
        if gate.held {
            gate.waiting = true;
            while gate.held {
                gate = self.opened.wait(gate).unwrap_or_else(PoisonError::into_inner);
            }
            gate.waiting = false;
        }
        match gate.page_limit.take() {
            Some(true) => {
                if gate.original_page_count.is_none() {
                    gate.original_page_count =
                        conn.query_row("PRAGMA max_page_count", [], |row| row.get::<_, i64>(0)).ok();
                }
                // SQLite never sets it below the current size: the database
                // is full from its next new page on.
                let _ = conn.query_row("PRAGMA max_page_count = 1", [], |_| Ok(()));
            }
            Some(false) => {
                if let Some(original) = gate.original_page_count {
                    let _ = conn.query_row(&format!("PRAGMA max_page_count = {original}"), [], |_| Ok(()));
                }
            }
            None => {}
        }
    }

    /// For [`fail_point!`](crate::hooks::fail_point): the failure armed at
    /// `point` for the change set at `index` of its batch, as the error it
    /// makes on `conn` (or its panic).
    pub(crate) fn fire(&self, conn: &Connection, point: FailPoint, index: usize) -> Result<(), Error> {
        match self.points.fire(point, index) {
            Some(failure) => Err(injected(conn, failure, point)),
            None => Ok(()),
        }
    }

    /// Commits the batch's transaction, or fails its `COMMIT` as armed at
    /// [`FailPoint::CommitBeforeDisk`] or [`FailPoint::CommitAfterDisk`].
    pub(crate) fn commit(&self, conn: &Connection) -> Result<(), Error> {
        let point = FailPoint::CommitBeforeDisk;
        if let Some(failure) = self.points.fire(point, 0) {
            if failure != Failure::Busy {
                // SQLite rolls back the transaction of any failed COMMIT but a busy one.
                let _ = exec(conn, sql::ROLLBACK);
            }
            return Err(injected(conn, failure, point));
        }
        exec(conn, sql::COMMIT)?;
        let point = FailPoint::CommitAfterDisk;
        match self.points.fire(point, 0) {
            Some(failure @ (Failure::Error | Failure::Panic)) => Err(injected(conn, failure, point)),
            Some(_) => Err(sqlite_error(ffi::SQLITE_IOERR_FSYNC, point)),
            None => Ok(()),
        }
    }
}

/// The error `failure` makes at `point` (after rolling the transaction
/// back, for [`Failure::IoErrorRollsBack`]), or the panic.
fn injected(conn: &Connection, failure: Failure, point: FailPoint) -> Error {
    match failure {
        Failure::Error => Error::Injected("an error injected at a fail point"),
        Failure::DiskFull => sqlite_error(ffi::SQLITE_FULL, point),
        Failure::IoError => sqlite_error(ffi::SQLITE_IOERR, point),
        Failure::IoErrorRollsBack => {
            let _ = exec(conn, sql::ROLLBACK);
            sqlite_error(ffi::SQLITE_IOERR, point)
        }
        Failure::Busy => sqlite_error(ffi::SQLITE_BUSY, point),
        Failure::Panic => panic!("{} at {point:?}", talk_testing::faults::INJECTED_PANIC),
    }
}

/// SQLite's error `code`, saying where it was injected.
fn sqlite_error(code: i32, point: FailPoint) -> Error {
    let error = ffi::Error::new(code);
    let message = format!("{error} (injected at {point:?})");
    Error::Sqlite(rusqlite::Error::SqliteFailure(error, Some(message)))
}

/// Whether the calling thread is the store's writer thread, which commits
/// the change sets that queue (rather than their callers): for a predicate
/// of [`FailPoints::arm_when`] that tells who commits.
pub fn on_writer_thread() -> bool {
    std::thread::current().name() == Some(WRITER_THREAD)
}

/// The fail points of a [`SqliteStore`](crate::SqliteStore), from
/// [`SqliteStore::fail_points`](crate::SqliteStore::fail_points): arm points
/// through [`FailPoints`] (it dereferences to it), hold the writer, fill the
/// disk. The index a predicate of [`FailPoints::arm_when`] sees is the
/// change set's place in its batch; the points of the whole batch
/// ([`FailPoint::BeforeCommit`] and after) see `0`.
pub struct SqliteFailPoints {
    pub(crate) shared: Arc<Shared>,
    pub(crate) queue: Option<mpsc::WeakSender<Command>>,
}

impl std::fmt::Debug for SqliteFailPoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteFailPoints").field("points", &self.shared.faults.points).finish_non_exhaustive()
    }
}

impl std::ops::Deref for SqliteFailPoints {
    type Target = FailPoints<FailPoint, Failure>;

    fn deref(&self) -> &Self::Target {
        &self.shared.faults.points
    }
}

impl SqliteFailPoints {
    /// A handle on the points alone.
    pub fn points(&self) -> FailPoints<FailPoint, Failure> {
        self.shared.faults.points.clone()
    }

    /// Holds the writer: from its next batch on, it waits with the first
    /// change set in hand until the hold is dropped, so that the change sets
    /// queued meanwhile form one batch, in the order they were queued
    /// (see [`pending`](Self::pending)). Drop the hold before the store.
    pub fn hold_writer(&self) -> WriterHold {
        self.shared.faults.gate().held = true;
        WriterHold { shared: Arc::clone(&self.shared) }
    }

    /// The change sets waiting for the writer: those queued, and the one it
    /// holds while it is held.
    pub fn pending(&self) -> usize {
        let queued = self
            .queue
            .as_ref()
            .and_then(mpsc::WeakSender::upgrade)
            .map_or(0, |sender| sender.max_capacity() - sender.capacity());
        queued + usize::from(self.shared.faults.gate().waiting)
    }

    /// Makes the database full for real (`PRAGMA max_page_count` at its
    /// current size), or lifts that limit again, before the writer's next
    /// batch: a write that needs a new page then fails with `SQLITE_FULL`.
    pub fn set_disk_full(&self, full: bool) {
        self.shared.faults.gate().page_limit = Some(full);
    }
}

/// A hold on the writer ([`SqliteFailPoints::hold_writer`]); dropping it lets
/// the writer go on. Drop it before the store: closing a store waits for its
/// writer.
#[must_use = "the writer goes on when the hold is dropped"]
pub struct WriterHold {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for WriterHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterHold").finish_non_exhaustive()
    }
}

impl Drop for WriterHold {
    fn drop(&mut self) {
        self.shared.faults.gate().held = false;
        self.shared.faults.opened.notify_all();
    }
}
