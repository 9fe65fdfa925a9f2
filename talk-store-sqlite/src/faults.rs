//! Fail points (feature `fault-injection`, for tests only): places inside
//! the writer where a test makes a change set or a whole batch fail, a way
//! to hold the writer so that several change sets form one batch, and a
//! real full disk.
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
use talk_testing::faults::FailPoints;
use tokio::sync::mpsc;

use crate::writer::{Command, Shared};

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
}

/// The fail points of a [`SqliteStore`](crate::SqliteStore), from
/// [`SqliteStore::fail_points`](crate::SqliteStore::fail_points): arm points
/// through [`FailPoints`] (it dereferences to it), hold the writer, fill the
/// disk. The index a predicate of [`FailPoints::arm_when`] sees is the
/// change set's place in its batch; [`FailPoint::BeforeCommit`] and
/// [`FailPoint::AfterCommit`] see `0`.
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

/// Counts the steps of one change set, for [`FailPoint::AfterWrite`] and
/// [`FailPoint::AfterEvent`].
#[derive(Debug, Default)]
pub(crate) struct Steps {
    writes: usize,
    events: usize,
}

impl Steps {
    /// The point after the next write.
    pub(crate) fn write(&mut self) -> FailPoint {
        self.writes += 1;
        FailPoint::AfterWrite(self.writes)
    }

    /// The point after the next event.
    pub(crate) fn event(&mut self) -> FailPoint {
        self.events += 1;
        FailPoint::AfterEvent(self.events)
    }
}
