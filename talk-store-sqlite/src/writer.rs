//! The writer: the write connection, committing change sets in batches
//! (group commit).
//!
//! Who commits: a caller whose change set is the only one under way, that
//! finds no batch being committed and runs on a multi-threaded Tokio
//! runtime, commits its change set itself, on its own thread, inside
//! [`tokio::task::block_in_place`]: a lone sender pays no hand-over to
//! another thread. Every other change set is queued to the writer thread,
//! which takes whatever is queued as one batch while the others wait.
//! Either way the connection is behind one mutex, and a batch goes the same
//! steps.
//!
//! A batch: `BEGIN IMMEDIATE`; for each change set, a savepoint in which
//! it is applied ([`crate::apply`]), then `RELEASE` — or `ROLLBACK TO` when
//! it is refused or fails, which undoes it and its `seq` values and fails
//! only its caller; the search index changes of the applied change sets
//! (after the savepoints: see [`apply::SearchChange`]); `COMMIT`; then, and
//! only then, publish the new head and answer every caller. When an error
//! has rolled back the whole transaction (SQLite does that for some I/O,
//! full disk and memory errors: `is_autocommit()` tells), nobody of the
//! batch is acknowledged: each caller gets an error and nothing of the
//! batch is applied.
//!
//! A failed `COMMIT` is different: SQLite rolls back its transaction
//! whatever the failure (but a busy one), yet an I/O error during the commit
//! itself may strike after the commit reached the WAL, which recovery then
//! replays. Unless the failure certainly wrote nothing (the transaction is
//! still open, or SQLite refused the commit before writing), every caller
//! of the batch is told the outcome is unknown
//! ([`StoreError::OutcomeUnknown`]), and reads by id tell.
//!
//! A panic stops the writer: the callers of the batch, those queued and
//! those that come later get an error, never a hang. When the store closes
//! its queue, the writer thread answers what is queued, checkpoints the WAL
//! into the database file and closes the connection.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use rusqlite::{Connection, ErrorCode};
use talk_core::Event;
use talk_core::store::{ChangeSet, StoreError};
use tokio::sync::{mpsc, oneshot, watch};

use crate::apply::{self, Lease, Refusal};
use crate::error::Error;
use crate::hooks::{Faults, fail_point};
use crate::sql;

/// The answer to one change set.
pub(crate) type Reply = oneshot::Sender<Result<Vec<Event>, StoreError>>;

/// What a batch does for one caller.
pub(crate) enum Entry {
    /// Apply a change set; answers its events.
    Apply(ChangeSet),
    /// Remove the events with `seq` up to this one (retention); answers no events.
    Prune(u64),
    /// Set a reader's hold on the log: holder, position, and when it expires
    /// (unix milliseconds; `None`: never); answers no events.
    Hold(String, u64, Option<i64>),
    /// End a reader's hold; answers no events.
    Release(String),
    /// Take or renew a consumer's lease, creating it at this cursor; answers
    /// no events, or `LeaseHeld` while another owner holds it.
    ClaimConsumer(Lease, u64),
    /// Move a consumer's cursor forward and renew its lease; answers no
    /// events, or `LeaseHeld` unless the owner owns it.
    AckConsumer(Lease, u64),
    /// Remove a consumer; answers no events.
    RemoveConsumer(String),
}

/// What the store sends the writer thread: an entry and where to answer.
pub(crate) type Command = (Entry, Reply);

/// Why the writer takes no more writes.
#[derive(Debug, Clone)]
pub(crate) enum Stop {
    /// It panicked: why.
    Panicked(String),
    /// The store was closed.
    Closed,
}

/// What the writer shares with the store.
pub(crate) struct Shared {
    /// The committed head: the `seq` of the last committed event.
    pub(crate) head: watch::Sender<u64>,
    /// Why the writer stopped, once it has.
    pub(crate) stopped: Mutex<Option<Stop>>,
    /// The fail points (nothing without the feature `fault-injection`).
    pub(crate) faults: Faults,
}

impl Shared {
    /// Records why the writer stops, unless it stopped already.
    pub(crate) fn stop(&self, why: Stop) {
        self.stopped.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert(why);
    }

    /// The error for a caller that finds the writer gone.
    pub(crate) fn stopped_error(&self) -> StoreError {
        let stopped = self.stopped.lock().unwrap_or_else(PoisonError::into_inner).clone();
        match stopped {
            Some(Stop::Closed) => Error::Closed,
            Some(Stop::Panicked(why)) => Error::WriterStopped(Some(why)),
            None => Error::WriterStopped(None),
        }
        .into()
    }
}

/// The name of the writer thread.
pub(crate) const WRITER_THREAD: &str = "talk-sqlite-writer";

/// The writer, shared by the writer thread and the callers that commit on
/// their own thread; `None` once it stopped (after a panic, which closed
/// its connection and released the database's lock file) or closed.
pub(crate) type SharedWriter = Arc<Mutex<Option<Writer>>>;

/// Starts the writer thread on `conn`. The writer owns `lock_file` and releases
/// it only after the connection is closed. The thread ends when every
/// sender of `commands` is gone and what was queued is answered: it then
/// checkpoints and closes the connection, and answers how that went.
pub(crate) fn spawn(
    conn: Connection,
    lock_file: std::fs::File,
    commands: mpsc::Receiver<Command>,
    shared: Arc<Shared>,
    max_batch: usize,
) -> std::io::Result<(JoinHandle<Result<(), Error>>, SharedWriter)> {
    let writer =
        Writer { conn, _lock: lock_file, shared: Arc::clone(&shared), max_batch: max_batch.max(1), broken: false };
    let writer = Arc::new(Mutex::new(Some(writer)));
    let thread_writer = Arc::clone(&writer);
    let thread = std::thread::Builder::new().name(WRITER_THREAD.to_owned()).spawn(move || {
        run(&thread_writer, &shared, commands);
        let closing = lock(&thread_writer).take();
        closing.map_or(Ok(()), Writer::close)
    })?;
    Ok((thread, writer))
}

/// The write connection and what its batches need.
pub(crate) struct Writer {
    // Fields drop in order: the connection closes before the lock goes.
    conn: Connection,
    _lock: std::fs::File,
    shared: Arc<Shared>,
    max_batch: usize,
    /// Whether a batch panicked: the writer is then dropped.
    broken: bool,
}

/// A batch's transaction failed.
enum BatchFailed {
    /// Nothing of it is applied.
    RolledBack(Error),
    /// Its `COMMIT` failed in a way that may have committed it.
    OutcomeUnknown(Error),
}

/// Runs a statement that answers no rows (`BEGIN`, `COMMIT`, …).
pub(crate) fn exec(conn: &Connection, statement: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(statement)?.execute([])?;
    Ok(())
}

/// Locks the writer; a panic while it was held was caught and stopped the
/// writer, so what the mutex holds is sound.
fn lock(writer: &Mutex<Option<Writer>>) -> std::sync::MutexGuard<'_, Option<Writer>> {
    writer.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Commits a batch with the writer in `slot`; a writer that stops doing so
/// (it panicked) is dropped: its connection closes, its lock file goes.
fn commit_in(slot: &mut Option<Writer>, entries: Vec<Entry>) -> Vec<Result<Vec<Event>, StoreError>> {
    let Some(writer) = slot.as_mut() else { return Vec::new() };
    let results = writer.commit(entries);
    if writer.broken {
        *slot = None;
    }
    results
}

/// The writer thread: takes each queued command with whatever else is
/// queued behind it, up to the batch bound, and commits them as one batch.
/// Ends when the store closes the queue, or once the writer stopped.
fn run(writer: &Mutex<Option<Writer>>, shared: &Shared, mut commands: mpsc::Receiver<Command>) {
    while let Some(first) = commands.blocking_recv() {
        let mut slot = lock(writer);
        let Some(held) = slot.as_mut() else {
            drop(slot);
            let _ = first.1.send(Err(shared.stopped_error()));
            break;
        };
        shared.faults.before_batch(&held.conn);
        let max_batch = held.max_batch;
        let (mut entries, mut replies): (Vec<Entry>, Vec<Reply>) = std::iter::once(first).unzip();
        while entries.len() < max_batch {
            let Ok((entry, reply)) = commands.try_recv() else { break };
            entries.push(entry);
            replies.push(reply);
        }
        let mut results = commit_in(&mut slot, entries).into_iter();
        drop(slot);
        for reply in replies {
            let _ = reply.send(results.next().unwrap_or_else(|| Err(shared.stopped_error())));
        }
    }
    // Stopped (or closed): fail what is still queued instead of leaving it.
    commands.close();
    while let Ok((_, reply)) = commands.try_recv() {
        let _ = reply.send(Err(shared.stopped_error()));
    }
}

/// Commits one change set on the calling thread if the writer is idle (no
/// batch being committed, nor the writer held by a test). Answers the change
/// set back when the writer is busy, so that the caller queues it.
pub(crate) fn commit_here(
    writer: &Mutex<Option<Writer>>,
    shared: &Shared,
    changes: ChangeSet,
) -> Result<Result<Vec<Event>, StoreError>, ChangeSet> {
    if shared.faults.is_held() {
        return Err(changes);
    }
    let mut slot = match writer.try_lock() {
        Ok(slot) => slot,
        Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        Err(std::sync::TryLockError::WouldBlock) => return Err(changes),
    };
    if slot.is_none() {
        return Ok(Err(shared.stopped_error()));
    }
    let mut results = tokio::task::block_in_place(|| {
        if let Some(held) = slot.as_ref() {
            shared.faults.before_batch(&held.conn);
        }
        commit_in(&mut slot, vec![Entry::Apply(changes)])
    });
    Ok(results.pop().unwrap_or_else(|| Err(shared.stopped_error())))
}

impl Writer {
    /// Commits a batch and publishes the new head; answers each entry's
    /// result, in order. A panic stops the writer: every entry is answered
    /// with the stop.
    fn commit(&mut self, entries: Vec<Entry>) -> Vec<Result<Vec<Event>, StoreError>> {
        let count = entries.len();
        let every = |wrap: fn(Arc<Error>) -> Error, error: Error| {
            let error = Arc::new(error);
            (0..count).map(|_| Err(wrap(Arc::clone(&error)).into())).collect()
        };
        match catch_unwind(AssertUnwindSafe(|| self.commit_batch(entries))) {
            Ok(Ok((results, head))) => {
                if let Some(head) = head {
                    self.shared.head.send_replace(head);
                }
                results
                    .into_iter()
                    .map(|result| {
                        result.map_err(|refusal| match refusal {
                            Refusal::Conflict(conflict) => StoreError::Conflict(conflict),
                            Refusal::Failed(error) => error.into(),
                        })
                    })
                    .collect()
            }
            Ok(Err(BatchFailed::RolledBack(error))) => every(Error::BatchRolledBack, error),
            Ok(Err(BatchFailed::OutcomeUnknown(error))) => {
                self.publish_stored_head();
                every(Error::CommitOutcomeUnknown, error)
            }
            Err(panic) => {
                let why = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panicked".to_owned());
                *self.shared.stopped.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some(Stop::Panicked(format!("it panicked: {why}")));
                self.broken = true;
                (0..count).map(|_| Err(self.shared.stopped_error())).collect()
            }
        }
    }

    /// Publishes the head as the database holds it, when it is above the
    /// published one: what a commit of unknown outcome did commit is
    /// readable, and published like any commit.
    fn publish_stored_head(&self) {
        let stored = self.conn.prepare_cached(sql::HEAD).and_then(|mut s| s.query_row([], |row| row.get::<_, i64>(0)));
        if let Some(stored) = stored.ok().and_then(|head| u64::try_from(head).ok()) {
            self.shared.head.send_if_modified(|head| {
                let moved = stored > *head;
                *head = (*head).max(stored);
                moved
            });
        }
    }

    /// Applies a batch in one transaction. Answers each entry's result and
    /// the new head, or fails the whole batch.
    #[allow(clippy::type_complexity)]
    fn commit_batch(
        &mut self,
        entries: Vec<Entry>,
    ) -> Result<(Vec<Result<Vec<Event>, Refusal>>, Option<u64>), BatchFailed> {
        if let Err(error) = exec(&self.conn, sql::BEGIN) {
            return Err(self.abandon(error.into()));
        }
        let mut results = Vec::with_capacity(entries.len());
        let mut head = None;
        let mut search = Vec::new();
        for (index, entry) in entries.into_iter().enumerate() {
            let mut its_search = Vec::new();
            let result = self.in_savepoint(|conn, faults| match entry {
                Entry::Apply(changes) => apply::apply(conn, faults, index, changes, &mut its_search),
                Entry::Prune(through) => apply::prune(conn, through),
                Entry::Hold(holder, position, expires_at) => apply::hold(conn, &holder, position, expires_at),
                Entry::Release(holder) => apply::release(conn, &holder),
                Entry::ClaimConsumer(lease, start) => apply::claim_consumer(conn, &lease, start),
                Entry::AckConsumer(lease, cursor) => apply::ack_consumer(conn, &lease, cursor),
                Entry::RemoveConsumer(name) => apply::remove_consumer(conn, &name),
            });
            match result {
                Ok(events) => {
                    search.append(&mut its_search);
                    head = events.last().map(|e| e.seq).or(head);
                    results.push(Ok(events));
                }
                Err(refusal) => {
                    if self.conn.is_autocommit() {
                        // SQLite rolled back the whole transaction: the
                        // change sets applied before this one are gone too.
                        let error = match refusal {
                            Refusal::Failed(error) => error,
                            Refusal::Conflict(conflict) => {
                                Error::WriterStopped(Some(format!("transaction lost after {conflict}")))
                            }
                        };
                        return Err(self.abandon(error));
                    }
                    if let Err(error) = exec(&self.conn, sql::ROLLBACK_TO).and_then(|()| exec(&self.conn, sql::RELEASE))
                    {
                        return Err(self.abandon(error.into()));
                    }
                    results.push(Err(refusal));
                }
            }
        }
        // The search index of the applied change sets, outside their
        // savepoints: one FTS5 segment for the batch (see `SearchChange`).
        if let Err(error) = apply::write_search_index(&self.conn, &search) {
            return Err(self.abandon(error));
        }
        if let Err(error) = fail_point!(self.shared.faults, &self.conn, 0, BeforeCommit) {
            return Err(self.abandon(error));
        }
        if let Err(error) = self.shared.faults.commit(&self.conn) {
            return Err(self.commit_failed(error));
        }
        if let Err(error) = fail_point!(self.shared.faults, &self.conn, 0, AfterCommit) {
            // Committed: a failure now can only lose the answers.
            let error = Arc::new(error);
            for result in &mut results {
                *result = Err(Refusal::Failed(Error::AnswerLost(Arc::clone(&error))));
            }
        }
        Ok((results, head))
    }

    /// Ends a batch that failed before its `COMMIT`: rolls back what is left
    /// of its transaction.
    fn abandon(&self, error: Error) -> BatchFailed {
        if !self.conn.is_autocommit() {
            let _ = exec(&self.conn, sql::ROLLBACK);
        }
        BatchFailed::RolledBack(error)
    }

    /// Ends a batch whose `COMMIT` failed: rolled back for sure when the
    /// transaction is still open (SQLite keeps it on `SQLITE_BUSY`; the
    /// store rolls it back) or SQLite refused the commit before writing
    /// anything; otherwise (`SQLITE_IOERR…`, `SQLITE_FULL`,
    /// `SQLITE_CORRUPT`, …: SQLite has rolled back its view, but the commit
    /// may have reached the WAL, and recovery would replay it) unknown.
    fn commit_failed(&self, error: Error) -> BatchFailed {
        let wrote_nothing = matches!(
            error.sqlite_code(),
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::ConstraintViolation)
        );
        if !self.conn.is_autocommit() || wrote_nothing {
            self.abandon(error)
        } else {
            BatchFailed::OutcomeUnknown(error)
        }
    }

    /// Runs one entry in its own savepoint. On `Err` the savepoint is still
    /// open (the caller rolls back to it), unless SQLite rolled back the
    /// whole transaction.
    fn in_savepoint(
        &self,
        entry: impl FnOnce(&Connection, &Faults) -> Result<Vec<Event>, Refusal>,
    ) -> Result<Vec<Event>, Refusal> {
        exec(&self.conn, sql::SAVEPOINT)?;
        let events = entry(&self.conn, &self.shared.faults)?;
        exec(&self.conn, sql::RELEASE)?;
        Ok(events)
    }

    /// Closes the writer cleanly: checkpoints the whole WAL into the
    /// database file and truncates it (so the database file alone holds
    /// every commit), closes the connection, then releases the lock file.
    fn close(self) -> Result<(), Error> {
        let Writer { conn, _lock: lock, .. } = self;
        let checkpoint = conn.query_row(sql::CHECKPOINT, [], |row| row.get::<_, i64>(0));
        conn.close().map_err(|(_, error)| error)?;
        drop(lock);
        match checkpoint? {
            0 => Ok(()),
            _ => Err(Error::CheckpointBusy),
        }
    }
}

/// One `apply` under way, counted in [`SqliteStore::applying`] while it lives.
pub(crate) struct Applying<'a>(&'a AtomicUsize);

impl<'a> Applying<'a> {
    /// Counts one more; answers it and whether it is the only one.
    pub(crate) fn enter(count: &'a AtomicUsize) -> (Self, bool) {
        let before = count.fetch_add(1, Ordering::AcqRel);
        (Self(count), before == 0)
    }
}

impl Drop for Applying<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}
