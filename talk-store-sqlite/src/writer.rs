//! The writer: the write connection, committing change sets in batches
//! (group commit).
//!
//! Who commits: a caller whose change set is the only one under way, that
//! finds no batch being committed and runs on a multi-threaded Tokio runtime, commits
//! its change set itself, on its own thread, inside
//! [`tokio::task::block_in_place`]: a lone sender pays no hand-over to
//! another thread. Every other change set is queued to the writer thread,
//! which takes whatever is queued as one batch while the others wait.
//! Either way the connection is behind one mutex, and a batch goes the same
//! steps.
//!
//! A batch: `BEGIN IMMEDIATE`; for each change set, a savepoint in which
//! its guards are checked, its `seq` values taken (`max(seq) + 1` read inside
//! the savepoint), its writes applied and its events appended, then
//! `RELEASE` — or `ROLLBACK TO` when it is refused or fails, which undoes it
//! and its `seq` values and fails only its caller; `COMMIT`; then, and only
//! then, publish the new head and answer every caller. When an error has
//! rolled back the whole transaction (SQLite does that for some I/O, full
//! disk and memory errors: `is_autocommit()` tells) or the commit fails,
//! nobody of the batch is acknowledged: each caller gets an error and
//! nothing of the batch is applied. A panic stops the writer: the callers of
//! the batch, those queued and those that come later get an error, never a
//! hang.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use rusqlite::{Connection, ErrorCode, OptionalExtension, params};
use talk_core::store::Named;
use talk_core::store::{ChangeSet, Conflict, Guard, ResolvedChangeSet, StoreError, Write};
use talk_core::{Event, EventData};
use tokio::sync::{mpsc, oneshot, watch};

use crate::codec::{num, ts, ts_opt};
use crate::error::Error;
#[cfg(feature = "fault-injection")]
use crate::faults::{FailPoint, Failure};
use crate::sql;

/// The answer to one change set.
pub(crate) type Reply = oneshot::Sender<Result<Vec<Event>, StoreError>>;

/// What the store sends the writer.
pub(crate) enum Command {
    /// Apply a change set and answer.
    Apply(ChangeSet, Reply),
    /// Remove the events with `seq` up to this one (retention); answers no events.
    Prune(u64, Reply),
    /// Test hooks.
    #[cfg(test)]
    Test(TestHook),
}

/// Ways for unit tests to steer the writer.
#[cfg(test)]
pub(crate) enum TestHook {
    /// Stop taking commands until the sender says so (or is dropped), so
    /// that the commands queued meanwhile form one batch.
    Hold(std::sync::mpsc::Receiver<()>),
    /// Panic inside the batch's transaction.
    Panic(Reply),
    /// Roll the whole transaction back from inside the batch and fail, as
    /// SQLite does on some I/O errors.
    RollBackEverything(Reply),
    /// Report the size of each batch committed since the last report.
    BatchSizes(oneshot::Sender<Vec<(usize, bool)>>),
}

/// What the writer shares with the store.
pub(crate) struct Shared {
    /// The committed head: the `seq` of the last committed event.
    pub(crate) head: watch::Sender<u64>,
    /// Why the writer stopped, once it has.
    pub(crate) stopped: Mutex<Option<String>>,
    /// The fail points.
    #[cfg(feature = "fault-injection")]
    pub(crate) faults: crate::faults::FaultState,
}

impl Shared {
    /// Whether the writer stopped (after a panic).
    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.lock().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    /// The error for a caller that finds the writer gone.
    pub(crate) fn stopped_error(&self) -> StoreError {
        let why = self.stopped.lock().unwrap_or_else(PoisonError::into_inner).clone();
        Error::WriterStopped(why).into()
    }
}

/// The name of the writer thread.
const WRITER_THREAD: &str = "talk-sqlite-writer";

/// The writer, shared by the writer thread and the callers that commit on
/// their own thread; `None` once it stopped (after a panic), which closed
/// its connection and released the database's lock file.
pub(crate) type SharedWriter = Arc<Mutex<Option<Writer>>>;

/// Starts the writer thread on `conn`. The writer owns `lock` and releases
/// it only after the connection is closed, when the last holder of the
/// writer lets it go.
pub(crate) fn spawn(
    conn: Connection,
    lock: std::fs::File,
    commands: mpsc::Receiver<Command>,
    shared: Arc<Shared>,
    max_batch: usize,
) -> std::io::Result<(JoinHandle<()>, SharedWriter)> {
    let shared_for_thread = Arc::clone(&shared);
    let writer = Arc::new(Mutex::new(Some(Writer {
        conn,
        _lock: lock,
        shared,
        max_batch: max_batch.max(1),
        #[cfg(test)]
        batch_sizes: Vec::new(),
        #[cfg(feature = "fault-injection")]
        fault_index: 0,
    })));
    let thread_writer = Arc::clone(&writer);
    let shared_thread = Arc::clone(&shared_for_thread);
    let thread = std::thread::Builder::new()
        .name(WRITER_THREAD.to_owned())
        .spawn(move || run(&thread_writer, &shared_thread, commands))?;
    Ok((thread, writer))
}

/// The write connection and what its batches need.
pub(crate) struct Writer {
    // Fields drop in order: the connection closes before the lock goes.
    conn: Connection,
    _lock: std::fs::File,
    shared: Arc<Shared>,
    max_batch: usize,
    #[cfg(test)]
    /// The size of each batch committed, and whether the writer thread
    /// committed it (rather than its caller).
    batch_sizes: Vec<(usize, bool)>,
    /// The index in its batch of the entry being applied, for fail points.
    #[cfg(feature = "fault-injection")]
    fault_index: usize,
}

/// One entry of a batch: a change set, or (in tests) a hook.
enum Entry {
    Apply(ChangeSet),
    Prune(u64),
    #[cfg(test)]
    Panic,
    #[cfg(test)]
    RollBackEverything,
}

/// Why a change set was not applied.
enum Refusal {
    /// A guard or unique key: the caller's change set is refused.
    Conflict(Conflict),
    /// The backend failed.
    Failed(Error),
}

impl From<rusqlite::Error> for Refusal {
    fn from(error: rusqlite::Error) -> Self {
        Self::Failed(error.into())
    }
}

impl From<Error> for Refusal {
    fn from(error: Error) -> Self {
        Self::Failed(error)
    }
}

impl From<serde_json::Error> for Refusal {
    fn from(error: serde_json::Error) -> Self {
        Self::Failed(error.into())
    }
}

/// A batch's transaction failed: nothing of it is applied.
struct BatchFailed(Error);

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
    if writer.shared.is_stopped() {
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
            fail_all(first, &mut commands, shared);
            return;
        };
        #[cfg(feature = "fault-injection")]
        held.shared.faults.before_batch(&held.conn);
        let mut entries = Vec::new();
        let mut replies = Vec::new();
        held.take(first, &mut entries, &mut replies);
        while entries.len() < held.max_batch {
            match commands.try_recv() {
                Ok(command) => held.take(command, &mut entries, &mut replies),
                Err(_) => break,
            }
        }
        if entries.is_empty() {
            continue;
        }
        let results = commit_in(&mut slot, entries);
        let stopped = slot.is_none();
        drop(slot);
        let mut results = results.into_iter();
        for reply in replies {
            let _ = reply.send(results.next().unwrap_or_else(|| Err(shared.stopped_error())));
        }
        if stopped {
            commands.close();
            while let Ok(command) = commands.try_recv() {
                fail(command, shared);
            }
            return;
        }
    }
}

/// Answers `first` and everything queued after it with the writer's stop.
fn fail_all(first: Command, commands: &mut mpsc::Receiver<Command>, shared: &Shared) {
    fail(first, shared);
    commands.close();
    while let Ok(command) = commands.try_recv() {
        fail(command, shared);
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
    #[cfg(feature = "fault-injection")]
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
        #[cfg(feature = "fault-injection")]
        if let Some(writer) = slot.as_ref() {
            shared.faults.before_batch(&writer.conn);
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
            Ok(Err(BatchFailed(error))) => {
                let error = Arc::new(error);
                (0..count).map(|_| Err(Error::BatchRolledBack(Arc::clone(&error)).into())).collect()
            }
            Err(panic) => {
                let why = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panicked".to_owned());
                *self.shared.stopped.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some(format!("it panicked: {why}"));
                (0..count).map(|_| Err(self.shared.stopped_error())).collect()
            }
        }
    }

    /// Adds a command to the batch being formed.
    fn take(&mut self, command: Command, entries: &mut Vec<Entry>, replies: &mut Vec<Reply>) {
        match command {
            Command::Apply(changes, reply) => {
                entries.push(Entry::Apply(changes));
                replies.push(reply);
            }
            Command::Prune(through, reply) => {
                entries.push(Entry::Prune(through));
                replies.push(reply);
            }
            #[cfg(test)]
            Command::Test(hook) => match hook {
                TestHook::Hold(release) => {
                    let _ = release.recv();
                }
                TestHook::Panic(reply) => {
                    entries.push(Entry::Panic);
                    replies.push(reply);
                }
                TestHook::RollBackEverything(reply) => {
                    entries.push(Entry::RollBackEverything);
                    replies.push(reply);
                }
                TestHook::BatchSizes(reply) => {
                    let _ = reply.send(std::mem::take(&mut self.batch_sizes));
                }
            },
        }
    }

    fn exec(&self, statement: &str) -> rusqlite::Result<()> {
        self.conn.prepare_cached(statement)?.execute([])?;
        Ok(())
    }

    /// Applies a batch in one transaction. Answers each entry's result and
    /// the new head, or fails the whole batch.
    #[allow(clippy::type_complexity)]
    fn commit_batch(
        &mut self,
        entries: Vec<Entry>,
    ) -> Result<(Vec<Result<Vec<Event>, Refusal>>, Option<u64>), BatchFailed> {
        #[cfg(test)]
        self.batch_sizes.push((entries.len(), std::thread::current().name() == Some(WRITER_THREAD)));
        if let Err(error) = self.exec(sql::BEGIN) {
            return Err(self.abandon(error.into()));
        }
        let mut results = Vec::with_capacity(entries.len());
        let mut head = None;
        for entry in entries {
            #[cfg(feature = "fault-injection")]
            {
                self.fault_index = results.len();
            }
            let result = match entry {
                Entry::Apply(changes) => self.in_savepoint(|writer| writer.apply(changes)),
                Entry::Prune(through) => self.in_savepoint(|writer| writer.prune(through)),
                #[cfg(test)]
                Entry::Panic => panic!("a test asked the writer to panic"),
                #[cfg(test)]
                Entry::RollBackEverything => {
                    let _ = self.exec(sql::ROLLBACK);
                    Err(Refusal::Failed(Error::Injected("the transaction was rolled back")))
                }
            };
            match result {
                Ok(events) => {
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
                    if let Err(error) = self.exec(sql::ROLLBACK_TO).and_then(|()| self.exec(sql::RELEASE)) {
                        return Err(self.abandon(error.into()));
                    }
                    results.push(Err(refusal));
                }
            }
        }
        #[cfg(feature = "fault-injection")]
        if let Some(failure) = self.shared.faults.points.fire(FailPoint::BeforeCommit, 0) {
            let error = self.injected(failure, FailPoint::BeforeCommit);
            return Err(self.abandon(error));
        }
        if let Err(error) = self.exec(sql::COMMIT) {
            return Err(self.abandon(error.into()));
        }
        #[cfg(feature = "fault-injection")]
        if let Some(failure) = self.shared.faults.points.fire(FailPoint::AfterCommit, 0) {
            // Committed: a failure now can only lose the answers.
            if failure == Failure::Panic {
                panic!("{} after the commit", talk_testing::faults::INJECTED_PANIC);
            }
            for result in &mut results {
                *result = Err(Refusal::Failed(Error::Injected("the answer to a committed change set was lost")));
            }
        }
        Ok((results, head))
    }

    /// Ends a failed batch: rolls back what is left of its transaction.
    fn abandon(&self, error: Error) -> BatchFailed {
        if !self.conn.is_autocommit() {
            let _ = self.exec(sql::ROLLBACK);
        }
        BatchFailed(error)
    }

    /// Runs one entry in its own savepoint. On `Err` the savepoint is still
    /// open (the caller rolls back to it), unless SQLite rolled back the
    /// whole transaction.
    fn in_savepoint(
        &mut self,
        entry: impl FnOnce(&mut Self) -> Result<Vec<Event>, Refusal>,
    ) -> Result<Vec<Event>, Refusal> {
        self.exec(sql::SAVEPOINT)?;
        let events = entry(self)?;
        self.exec(sql::RELEASE)?;
        Ok(events)
    }

    /// Retention: removes the events with `seq ≤ through` (at most the head)
    /// and moves the low-water mark there; a `through` at or below the mark
    /// changes nothing.
    fn prune(&mut self, through: u64) -> Result<Vec<Event>, Refusal> {
        let head: i64 = self.conn.prepare_cached(sql::HEAD)?.query_row([], |row| row.get(0))?;
        let mark: i64 = self.conn.prepare_cached(sql::LOW_WATER_MARK)?.query_row([], |row| row.get(0))?;
        let through = i64::try_from(through).unwrap_or(i64::MAX).min(head);
        if through > mark {
            self.conn.prepare_cached(sql::PRUNE_EVENTS)?.execute([through])?;
            self.conn.prepare_cached(sql::SET_LOW_WATER_MARK)?.execute([through])?;
        }
        Ok(Vec::new())
    }

    /// Checks the guards, numbers the events, applies the writes and appends
    /// the events, in that order.
    fn apply(&mut self, changes: ChangeSet) -> Result<Vec<Event>, Refusal> {
        for guard in &changes.guards {
            self.check(guard)?;
        }
        let first_seq: i64 = self.conn.prepare_cached(sql::NEXT_SEQ)?.query_row([], |row| row.get(0))?;
        let first_seq = crate::error::to_u64(first_seq, "seq")?;
        let ResolvedChangeSet { writes, events, .. } = changes.resolve(first_seq).map_err(Error::from)?;
        #[cfg(feature = "fault-injection")]
        let mut steps = crate::faults::Steps::default();
        #[cfg(feature = "fault-injection")]
        self.fault(FailPoint::AfterWrite(0))?;
        for write in &writes {
            self.write(write)?;
            #[cfg(feature = "fault-injection")]
            self.fault(steps.write())?;
        }
        for event in &events {
            self.append(event)?;
            #[cfg(feature = "fault-injection")]
            self.fault(steps.event())?;
        }
        Ok(events)
    }

    fn check(&self, guard: &Guard) -> Result<(), Refusal> {
        let (holds, conflict) = match guard {
            Guard::TalkVersion { talk_id, version } => {
                let stored: Option<i64> = self
                    .conn
                    .prepare_cached(sql::TALK_VERSION)?
                    .query_row([id(&talk_id.0)], |r| r.get(0))
                    .optional()?;
                (stored == Some(num(*version)?), Conflict::TalkVersion)
            }
            Guard::ParticipantActive { participant_id } => {
                let status: Option<String> = self
                    .conn
                    .prepare_cached(sql::PARTICIPANT_STATUS)?
                    .query_row([id(&participant_id.0)], |r| r.get(0))
                    .optional()?;
                (status.as_deref() == Some("active"), Conflict::ParticipantNotActive)
            }
            Guard::MessageVersion { message_id, version } => {
                let stored: Option<i64> = self
                    .conn
                    .prepare_cached(sql::MESSAGE_VERSION)?
                    .query_row([id(&message_id.0)], |r| r.get(0))
                    .optional()?;
                (stored == Some(num(*version)?), Conflict::MessageVersion)
            }
        };
        if holds { Ok(()) } else { Err(Refusal::Conflict(conflict)) }
    }

    /// Whether the row `key` exists, by a `SELECT 1 … WHERE id = ?1` statement.
    fn exists(&self, statement: &str, key: &uuid::Uuid) -> Result<bool, Refusal> {
        Ok(self.conn.prepare_cached(statement)?.query_row([id(key)], |_| Ok(())).optional()?.is_some())
    }

    /// Runs a statement that must change one row; none is a [`Conflict::RowMismatch`].
    fn change_one(&self, statement: &str, params: impl rusqlite::Params) -> Result<(), Refusal> {
        match self.conn.prepare_cached(statement)?.execute(params)? {
            0 => Err(Refusal::Conflict(Conflict::RowMismatch)),
            _ => Ok(()),
        }
    }

    fn write(&self, write: &Write) -> Result<(), Refusal> {
        match write {
            Write::InsertTalk(t) => {
                let pair = t.direct_pair.as_ref().map(|p| p.agents());
                let inserted = self.conn.prepare_cached(sql::INSERT_TALK)?.execute(params![
                    id(&t.id.0),
                    Named::as_str(t.kind),
                    pair.map(|p| p[0].as_str()),
                    pair.map(|p| p[1].as_str()),
                    t.name,
                    t.detail,
                    Named::as_str(t.status),
                    t.creator_id.as_str(),
                    t.member_count,
                    num(t.version)?,
                    num(t.created_seq)?,
                    ts(&t.tm_create)?,
                    ts(&t.tm_update)?,
                    ts_opt(t.tm_close.as_ref())?,
                ])?;
                if inserted == 0 {
                    let conflict = if self.exists(sql::TALK_EXISTS, &t.id.0)? {
                        Conflict::RowMismatch
                    } else {
                        Conflict::DirectPairTaken
                    };
                    return Err(Refusal::Conflict(conflict));
                }
            }
            Write::UpdateTalk(t) => self.change_one(
                sql::UPDATE_TALK,
                params![
                    id(&t.id.0),
                    t.name,
                    t.detail,
                    Named::as_str(t.status),
                    t.member_count,
                    num(t.version)?,
                    ts(&t.tm_update)?,
                    ts_opt(t.tm_close.as_ref())?,
                ],
            )?,
            Write::InsertParticipant(p) => {
                let inserted = self.conn.prepare_cached(sql::INSERT_PARTICIPANT)?.execute(params![
                    id(&p.id.0),
                    id(&p.talk_id.0),
                    p.agent_id.as_str(),
                    Named::as_str(p.status),
                    p.left_reason.map(Named::as_str),
                    num(p.seq)?,
                    num(p.joined_seq)?,
                    p.left_seq.map(num).transpose()?,
                    ts(&p.tm_joined)?,
                    ts_opt(p.tm_left.as_ref())?,
                ])?;
                if inserted == 0 {
                    let conflict = if self.exists(sql::PARTICIPANT_EXISTS, &p.id.0)? {
                        Conflict::RowMismatch
                    } else {
                        Conflict::ActiveParticipantExists
                    };
                    return Err(Refusal::Conflict(conflict));
                }
            }
            Write::UpdateParticipant(p) => {
                let updated = self.conn.prepare_cached(sql::UPDATE_PARTICIPANT)?.execute(params![
                    id(&p.id.0),
                    Named::as_str(p.status),
                    p.left_reason.map(Named::as_str),
                    p.left_seq.map(num).transpose()?,
                    ts_opt(p.tm_left.as_ref())?,
                ]);
                match updated {
                    Ok(0) => return Err(Refusal::Conflict(Conflict::RowMismatch)),
                    Ok(_) => {}
                    // Making a record active again next to another active one.
                    Err(error) if error.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
                        return Err(Refusal::Conflict(Conflict::ActiveParticipantExists));
                    }
                    Err(error) => return Err(error.into()),
                }
            }
            Write::InsertMessage(m) => {
                let inserted = self.conn.prepare_cached(sql::INSERT_MESSAGE)?.execute(params![
                    id(&m.id.0),
                    id(&m.talk_id.0),
                    m.parent_id.as_ref().map(|p| id(&p.0)),
                    Named::as_str(m.kind),
                    m.agent_id.as_ref().map(|a| a.as_str()),
                    m.text,
                    serde_json::to_string(&m.medias)?,
                    m.system.as_ref().map(serde_json::to_string).transpose()?,
                    num(m.version)?,
                    num(m.seq)?,
                    m.request_digest,
                    ts(&m.tm_create)?,
                    ts(&m.tm_update)?,
                    ts_opt(m.tm_edit.as_ref())?,
                    ts_opt(m.tm_delete.as_ref())?,
                ])?;
                if inserted == 0 {
                    return Err(Refusal::Conflict(Conflict::MessageIdTaken));
                }
            }
            Write::UpdateMessage(m) => self.change_one(
                sql::UPDATE_MESSAGE,
                params![
                    id(&m.id.0),
                    m.text,
                    serde_json::to_string(&m.medias)?,
                    num(m.version)?,
                    ts(&m.tm_update)?,
                    ts_opt(m.tm_edit.as_ref())?,
                    ts_opt(m.tm_delete.as_ref())?,
                ],
            )?,
            Write::SetMessageVersion { message_id, version } => {
                self.change_one(sql::SET_MESSAGE_VERSION, params![id(&message_id.0), num(*version)?])?;
            }
            Write::IncrementReplyCount(message_id) => {
                self.change_one(sql::INCREMENT_REPLY_COUNT, [id(&message_id.0)])?;
            }
            Write::InsertReaction(r) => {
                let message = id(&r.message_id.0);
                let inserted = self.conn.prepare_cached(sql::INSERT_REACTION)?.execute(params![
                    message,
                    r.emoji.as_str(),
                    r.agent_id.as_str(),
                    num(r.seq)?,
                    ts(&r.tm_create)?,
                ])?;
                if inserted == 0 {
                    return Err(Refusal::Conflict(Conflict::ReactionExists));
                }
                self.change_one(sql::TOUCH_MESSAGE, params![message, ts(&r.tm_create)?])?;
                self.conn.prepare_cached(sql::ADD_EMOJI)?.execute(params![message, r.emoji.as_str(), num(r.seq)?])?;
            }
            Write::DeleteReaction { message_id, emoji, agent_id, tm_update } => {
                let message = id(&message_id.0);
                self.change_one(sql::DELETE_REACTION, params![message, emoji.as_str(), agent_id.as_str()])?;
                self.conn.prepare_cached(sql::REMOVE_EMOJI)?.execute(params![message, emoji.as_str()])?;
                self.conn.prepare_cached(sql::DROP_UNUSED_EMOJI)?.execute(params![message, emoji.as_str()])?;
                self.change_one(sql::TOUCH_MESSAGE, params![message, ts(tm_update)?])?;
            }
            Write::DeleteAllReactions(message_id) => {
                if !self.exists(sql::MESSAGE_EXISTS, &message_id.0)? {
                    return Err(Refusal::Conflict(Conflict::RowMismatch));
                }
                self.conn.prepare_cached(sql::DELETE_ALL_REACTIONS)?.execute([id(&message_id.0)])?;
                self.conn.prepare_cached(sql::DELETE_ALL_EMOJI)?.execute([id(&message_id.0)])?;
            }
            Write::RedactMessage(message_id) => self.redact(message_id)?,
        }
        Ok(())
    }

    /// Removes a message's content from every event payload already in the
    /// log, found through the `events_by_message` index.
    fn redact(&self, message_id: &talk_core::MessageId) -> Result<(), Refusal> {
        let stored: Vec<(i64, String)> = self
            .conn
            .prepare_cached(sql::MESSAGE_EVENTS)?
            .query_map([id(&message_id.0)], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (seq, json) in stored {
            let mut data: EventData = serde_json::from_str(&json)?;
            if data.redact_message(*message_id) {
                self.conn.prepare_cached(sql::REWRITE_EVENT)?.execute(params![seq, serde_json::to_string(&data)?])?;
            }
        }
        Ok(())
    }

    /// Appends an event to the log.
    fn append(&self, event: &Event) -> Result<(), Refusal> {
        // Only payloads that carry a message's content are indexed by
        // message: they are what redaction rewrites.
        let message = match &event.data {
            EventData::MessageCreated(m) | EventData::MessageUpdated(m) | EventData::MessageDeleted(m) => Some(m.id),
            _ => None,
        };
        self.conn.prepare_cached(sql::INSERT_EVENT)?.execute(params![
            num(event.seq)?,
            id(&event.talk_id.0),
            message.as_ref().map(|m| id(&m.0)),
            ts(&event.tm_create)?,
            event.data.type_name(),
            serde_json::to_string(&event.data)?,
        ])?;
        Ok(())
    }
}

/// Fail points: what each failure does where it fires.
#[cfg(feature = "fault-injection")]
impl Writer {
    /// A change-set fail point: fails the change set being applied.
    fn fault(&self, point: FailPoint) -> Result<(), Refusal> {
        match self.shared.faults.points.fire(point, self.fault_index) {
            Some(failure) => Err(Refusal::Failed(self.injected(failure, point))),
            None => Ok(()),
        }
    }

    /// The error `failure` makes at `point` (after rolling the transaction
    /// back, for [`Failure::IoErrorRollsBack`]), or the panic.
    fn injected(&self, failure: Failure, point: FailPoint) -> Error {
        let sqlite = |code| {
            Error::Sqlite(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                Some(format!("injected at {point:?}")),
            ))
        };
        match failure {
            Failure::Error => Error::Injected("an error injected at a fail point"),
            Failure::DiskFull => sqlite(rusqlite::ffi::SQLITE_FULL),
            Failure::IoError => sqlite(rusqlite::ffi::SQLITE_IOERR),
            Failure::IoErrorRollsBack => {
                let _ = self.exec(sql::ROLLBACK);
                sqlite(rusqlite::ffi::SQLITE_IOERR)
            }
            Failure::Panic => panic!("{} at {point:?}", talk_testing::faults::INJECTED_PANIC),
        }
    }
}

/// Answers a command that will never run.
fn fail(command: Command, shared: &Shared) {
    match command {
        Command::Apply(_, reply) | Command::Prune(_, reply) => {
            let _ = reply.send(Err(shared.stopped_error()));
        }
        #[cfg(test)]
        Command::Test(TestHook::Panic(reply) | TestHook::RollBackEverything(reply)) => {
            let _ = reply.send(Err(shared.stopped_error()));
        }
        #[cfg(test)]
        Command::Test(_) => {}
    }
}

/// A UUID as stored: its 16 bytes.
pub(crate) fn id(uuid: &uuid::Uuid) -> &[u8] {
    uuid.as_bytes()
}
