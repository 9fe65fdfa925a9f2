#![doc = include_str!("../README.md")]
// docs.rs (`--cfg docsrs`, nightly) marks what needs a feature.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod apply;
mod backup;
mod codec;
mod error;
#[cfg(feature = "fault-injection")]
#[cfg_attr(docsrs, doc(cfg(feature = "fault-injection")))]
pub mod faults;
mod hooks;
mod open;
mod options;
mod reader;
mod schema;
mod sql;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use talk_core::store::Cursor;
use talk_core::store::Named;
use talk_core::store::{ChangeSet, Conflict, ConsumerRecord, SearchQuery, StoreError, TalkAndRecords};
use talk_core::{
    AgentId, AgentPair, Emoji, Event, Message, MessageId, Participant, ParticipantId, ParticipantStatus, Reaction,
    Store, Talk, TalkId, TalkStatus,
};
use tokio::sync::{mpsc, oneshot, watch};

pub use error::{BoxedError, OpenError};
pub use open::lock_file_path;
pub use options::{SqliteOptions, Synchronous};

use crate::apply::Lease;
use crate::codec::id;
use crate::error::Error;
use crate::open::classify_open_error;
use crate::reader::{ReadPool, ReadSize, after, before, limit};
use crate::writer::{Applying, Command, Entry, Shared, SharedWriter, Stop};

/// Talk's SQLite [`Store`]: one database file in WAL mode, one write
/// connection committing queued change sets in batches, a small pool of
/// read-only connections for reads. See the [crate documentation](crate).
///
/// Reads and writes need a Tokio runtime. Reads of a few rows run on the
/// calling task; on a multi-threaded runtime, reads of a page and the
/// commit of a lone change set run on the calling thread inside
/// `block_in_place`; concurrent change sets are committed in batches by the
/// writer thread; on a current-thread runtime, reads of a page run on the
/// blocking thread pool.
///
/// Close it with [`SqliteStore::close`] when the program stops: it answers
/// the writes under way, copies the WAL into the database file and releases
/// the lock file, and says whether that went well. Dropping the last handle
/// does the same, as well as it can: it blocks the dropping thread until
/// then, and a failure goes unnoticed.
pub struct SqliteStore {
    path: PathBuf,
    /// The writer thread's queue; `None` once the store is closed.
    commands: Mutex<Option<mpsc::Sender<Command>>>,
    /// The writer thread, answering how its closing checkpoint went.
    writer_thread: Mutex<Option<JoinHandle<Result<(), Error>>>>,
    writer: SharedWriter,
    /// How many `apply` calls are under way: one alone may commit on its
    /// own thread; several are left to the writer thread to batch.
    applying: AtomicUsize,
    reads: Arc<ReadPool>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating it if missing) the database at `path` and brings its
    /// schema up to date. Blocking: it does file I/O (call it at start-up,
    /// or through `spawn_blocking` from async code). It starts the writer
    /// thread but needs no runtime itself.
    ///
    /// Takes the lock file `<path>-lock` (see [`lock_file_path`]) for as
    /// long as the store is open: a second store on the same database, in
    /// this process or another, is refused with [`OpenError::Locked`].
    ///
    /// # Errors
    /// An [`OpenError`] that says what is wrong: the database is open
    /// elsewhere, the location is read-only, the file is not a database, its
    /// schema is newer than this crate knows, or SQLite failed.
    pub fn open(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self, OpenError> {
        let path = path.as_ref().to_owned();
        let lock = open::take_lock(&path)?;
        let mut conn = open::open_writer(&path, &options)?;
        schema::migrate(&mut conn, &path)?;
        let head: i64 = conn
            .prepare_cached(sql::HEAD)
            .and_then(|mut statement| statement.query_row([], |row| row.get(0)))
            .map_err(|e| classify_open_error(&path, e))?;
        let head = u64::try_from(head).map_err(|_| OpenError::Sqlite {
            path: path.clone(),
            source: "the event log holds a negative seq".into(),
        })?;
        let reads = Arc::new(ReadPool::open(&path, &options)?);
        let (head_tx, _) = watch::channel(head);
        let shared = Arc::new(Shared { head: head_tx, stopped: Mutex::new(None), faults: Default::default() });
        let (commands, receiver) = mpsc::channel(options.queue_bound.max(1));
        let (writer_thread, writer) =
            writer::spawn(conn, lock, receiver, Arc::clone(&shared), options.max_batch).map_err(OpenError::Thread)?;
        Ok(Self {
            path,
            commands: Mutex::new(Some(commands)),
            writer_thread: Mutex::new(Some(writer_thread)),
            writer,
            applying: AtomicUsize::new(0),
            reads,
            shared,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The committed head, as a `watch` channel: it changes after each
    /// commit that appended events, before any caller of that commit is
    /// answered, so every event up to the value it holds is readable. A
    /// notifier can wait on it. (It may lag an instant behind
    /// [`Store::head`], which reads the database.)
    pub fn watch_head(&self) -> watch::Receiver<u64> {
        self.shared.head.subscribe()
    }

    /// Closes the store cleanly; call it when the program stops. It refuses
    /// new reads and writes ([`StoreError::Unavailable`] from then on),
    /// waits for the reads under way, answers every write already taken,
    /// then checkpoints: copies the WAL into the database file and
    /// truncates it (`PRAGMA wal_checkpoint(TRUNCATE)`), so that the
    /// database file alone holds every commit, closes the database and
    /// releases the lock file. When it returns, the database can be opened
    /// again, or copied as one file. A second call answers at once.
    ///
    /// Dropping the last handle of the store does the same as well as it
    /// can (it cannot wait for reads on other threads, blocks the dropping
    /// thread, and swallows a failure): prefer `close`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the checkpoint or the closing of the
    /// database failed (everything committed is still in the database and
    /// its WAL, which the next open reads), or the writer thread had
    /// stopped after a panic.
    pub async fn close(&self) -> Result<(), StoreError> {
        self.shared.stop(Stop::Closed);
        drop(self.commands.lock().unwrap_or_else(PoisonError::into_inner).take());
        self.reads.close().await;
        let thread = self.writer_thread.lock().unwrap_or_else(PoisonError::into_inner).take();
        let Some(thread) = thread else { return Ok(()) };
        let stopped = |why: String| StoreError::from(Error::WriterStopped(Some(why)));
        match tokio::task::spawn_blocking(move || thread.join()).await {
            Ok(Ok(closed)) => Ok(closed?),
            Ok(Err(_)) => Err(stopped("it panicked while closing".to_owned())),
            Err(error) => Err(stopped(format!("could not wait for it to close: {error}"))),
        }
    }

    /// Backs the running store up into a new database file at
    /// `destination`: a copy of the database as of one moment, made by
    /// SQLite's online backup API on one of the store's read connections,
    /// so that writes go on meanwhile (the copy holds none of those that
    /// commit after it started). The copy is an ordinary database that
    /// [`SqliteStore::open`] opens. It is written under a temporary name
    /// (`<destination>-partial`) and renamed once complete.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when `destination` exists, or the copy or the
    /// file system failed (nothing is left at `destination` then);
    /// [`StoreError::Unavailable`] once the store is closed.
    pub async fn backup_to(&self, destination: impl AsRef<Path>) -> Result<(), StoreError> {
        let destination = destination.as_ref().to_owned();
        self.read(ReadSize::Long, move |conn| backup::backup(conn, &destination)).await
    }

    /// Backs up the database file at `database` into a new database file at
    /// `destination`, from outside any store: whether a store has it open
    /// (a running server, in this process or another) or not. Blocking.
    ///
    /// It opens `database` read-only, without its lock file, and copies it
    /// as [`SqliteStore::backup_to`] does: as of one moment, in one read
    /// transaction that never blocks the store's writer, under a temporary
    /// name renamed once complete. SQLite's own locks (WAL mode) make this
    /// safe beside a writer in another process, as `sqlite3`'s
    /// `VACUUM INTO` is. The copy is an ordinary database that
    /// [`SqliteStore::open`] opens.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when `database` cannot be opened (missing, not
    /// a database), `destination` exists, or the copy or the file system
    /// failed (nothing is left at `destination` then).
    pub fn backup_database(database: impl AsRef<Path>, destination: impl AsRef<Path>) -> Result<(), StoreError> {
        let conn = open::open_reader(database.as_ref(), &SqliteOptions::default()).map_err(StoreError::backend)?;
        Ok(backup::backup(&conn, destination.as_ref())?)
    }

    /// The writer thread's queue, while the store is open.
    fn sender(&self) -> Result<mpsc::Sender<Command>, StoreError> {
        let commands = self.commands.lock().unwrap_or_else(PoisonError::into_inner);
        commands.clone().ok_or_else(|| self.shared.stopped_error())
    }

    /// Queues an entry for the writer thread and waits for its answer.
    async fn queue(&self, commands: mpsc::Sender<Command>, entry: Entry) -> Result<Vec<Event>, StoreError> {
        let (reply, answer) = oneshot::channel();
        commands.send((entry, reply)).await.map_err(|_| self.shared.stopped_error())?;
        drop(commands);
        answer.await.map_err(|_| self.shared.stopped_error())?
    }

    /// Runs a read on the read pool; `size` says where (see [`ReadSize`]).
    async fn read<T, F>(&self, size: ReadSize, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Error> + Send + 'static,
    {
        Ok(self.reads.run(size, read).await?)
    }

    /// The store's fail points (feature `fault-injection`, for tests only):
    /// see [`faults`].
    #[cfg(feature = "fault-injection")]
    #[cfg_attr(docsrs, doc(cfg(feature = "fault-injection")))]
    pub fn fail_points(&self) -> faults::SqliteFailPoints {
        let commands = self.commands.lock().unwrap_or_else(PoisonError::into_inner);
        faults::SqliteFailPoints {
            shared: Arc::clone(&self.shared),
            queue: commands.as_ref().map(mpsc::Sender::downgrade),
        }
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Closing the queue ends the writer once it has answered what is
        // queued; it then checkpoints and closes the database and the lock
        // file. Joining it means both are closed when `drop` returns, so the
        // database can be opened again at once.
        drop(self.commands.get_mut().unwrap_or_else(PoisonError::into_inner).take());
        if let Some(writer) = self.writer_thread.get_mut().unwrap_or_else(PoisonError::into_inner).take() {
            let _ = writer.join();
        }
    }
}

/// Whether the caller runs on a multi-threaded Tokio runtime, where
/// [`tokio::task::block_in_place`] may run blocking work on the calling
/// thread.
fn on_multi_thread_runtime() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|handle| handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
}

#[async_trait]
impl Store for SqliteStore {
    /// Commits the change set on the calling thread when it is the only one
    /// under way and the writer is idle (on a multi-threaded runtime);
    /// otherwise queues it to the writer thread (waiting for room when the
    /// queue is full) and waits for the commit of its batch. An empty change
    /// set answers at once. A change set that is refused (a guard, a unique
    /// key) or fails fails alone; a batch whose transaction fails fails
    /// every caller in it, nothing of it applied; a batch whose `COMMIT`
    /// failed after it may have reached the disk answers every caller
    /// [`StoreError::OutcomeUnknown`]. `SQLITE_BUSY`, `SQLITE_FULL` and
    /// `SQLITE_IOERR…` that applied nothing, and a closed store, answer
    /// [`StoreError::Unavailable`].
    async fn apply(&self, changes: ChangeSet) -> Result<Vec<Event>, StoreError> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let commands = self.sender()?;
        let (_applying, alone) = Applying::enter(&self.applying);
        let changes = if alone && on_multi_thread_runtime() {
            match writer::commit_here(&self.writer, &self.shared, changes) {
                Ok(committed) => return committed,
                Err(busy) => busy,
            }
        } else {
            changes
        };
        self.queue(commands, Entry::Apply(changes)).await
    }

    /// Read from the database, not from memory: the writer can only publish
    /// a head after its commit, and a reader must never see an event above
    /// the head it is told. A read snapshot's greatest `seq` is committed,
    /// and with one writer committing in `seq` order, so is every `seq`
    /// below it.
    async fn head(&self) -> Result<u64, StoreError> {
        self.read(ReadSize::Point, |conn| {
            let head: i64 = conn.prepare_cached(sql::HEAD)?.query_row([], |row| row.get(0))?;
            error::to_u64(head, "head")
        })
        .await
    }

    async fn low_water_mark(&self) -> Result<u64, StoreError> {
        self.read(ReadSize::Point, |conn| {
            let mark: i64 = conn.prepare_cached(sql::LOW_WATER_MARK)?.query_row([], |row| row.get(0))?;
            error::to_u64(mark, "low-water mark")
        })
        .await
    }

    /// Runs through the writer like a change set (in its own savepoint of a
    /// batch), so it never races a write.
    async fn prune_events(&self, through: u64) -> Result<(), StoreError> {
        self.queue(self.sender()?, Entry::Prune(through)).await.map(drop)
    }

    /// Runs through the writer, so that it is ordered with the prunes.
    async fn hold_events(&self, holder: &str, position: u64, lease: Option<Duration>) -> Result<(), StoreError> {
        let expires_at = lease.map(apply::expires_in);
        self.queue(self.sender()?, Entry::Hold(holder.to_owned(), position, expires_at)).await.map(drop)
    }

    async fn release_events(&self, holder: &str) -> Result<(), StoreError> {
        self.queue(self.sender()?, Entry::Release(holder.to_owned())).await.map(drop)
    }

    /// Runs through the writer, then reads the cursor: only its owner moves
    /// it, and only forward.
    async fn claim_consumer(
        &self,
        name: &str,
        owner: &str,
        lease: Duration,
        start: u64,
    ) -> Result<Option<u64>, StoreError> {
        let lease = Lease::new(name, owner, lease);
        match self.queue(self.sender()?, Entry::ClaimConsumer(lease, start)).await {
            Ok(_) => {}
            Err(StoreError::Conflict(Conflict::LeaseHeld)) => return Ok(None),
            Err(other) => return Err(other),
        }
        let name = name.to_owned();
        self.read(ReadSize::Point, move |conn| reader::consumer_cursor(conn, &name).map(Some)).await
    }

    async fn ack_consumer(&self, name: &str, owner: &str, cursor: u64, lease: Duration) -> Result<bool, StoreError> {
        let lease = Lease::new(name, owner, lease);
        match self.queue(self.sender()?, Entry::AckConsumer(lease, cursor)).await {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict(Conflict::LeaseHeld)) => Ok(false),
            Err(other) => Err(other),
        }
    }

    async fn consumers(&self) -> Result<Vec<ConsumerRecord>, StoreError> {
        self.read(ReadSize::Point, reader::consumers).await
    }

    async fn remove_consumer(&self, name: &str) -> Result<(), StoreError> {
        self.queue(self.sender()?, Entry::RemoveConsumer(name.to_owned())).await.map(drop)
    }

    async fn secret_key(&self) -> Result<[u8; 32], StoreError> {
        self.read(ReadSize::Point, |conn| {
            let key: Vec<u8> = conn.prepare_cached(sql::SECRET_KEY)?.query_row([], |row| row.get(0))?;
            key.try_into().map_err(|_| error::Error::Range("secret key"))
        })
        .await
    }

    async fn talk(&self, talk_id: TalkId) -> Result<Option<Talk>, StoreError> {
        self.read(ReadSize::Point, move |conn| {
            Ok(conn.prepare_cached(sql::TALK)?.query_row([id(&talk_id.0)], codec::talk).optional()?)
        })
        .await
    }

    async fn direct_talk(&self, pair: &AgentPair) -> Result<Option<Talk>, StoreError> {
        let [low, high] = pair.agents().map(|a| a.as_str().to_owned());
        self.read(ReadSize::Point, move |conn| {
            Ok(conn.prepare_cached(sql::DIRECT_TALK)?.query_row(params![low, high], codec::talk).optional()?)
        })
        .await
    }

    async fn talks_of_agent(
        &self,
        agent: &AgentId,
        status: Option<TalkStatus>,
        before_seq: Cursor,
        max: usize,
    ) -> Result<Vec<Talk>, StoreError> {
        let agent = agent.as_str().to_owned();
        let status = status.map(Named::as_str);
        self.read(ReadSize::List, move |conn| {
            reader::rows(conn, sql::TALKS_OF_AGENT, params![agent, before(before_seq), status, limit(max)], codec::talk)
        })
        .await
    }

    async fn public_talks(&self, words: &[String], before_seq: Cursor, max: usize) -> Result<Vec<Talk>, StoreError> {
        if words.len() > sql::PUBLIC_TALKS_INLINE_WORDS {
            let words = serde_json::to_string(words).map_err(StoreError::backend)?;
            return self
                .read(ReadSize::List, move |conn| {
                    let params = params![before(before_seq), words, limit(max)];
                    reader::rows(conn, sql::PUBLIC_TALKS_MANY_WORDS, params, codec::talk)
                })
                .await;
        }
        let word = |i: usize| words.get(i).cloned();
        let (w1, w2, w3, w4) = (word(0), word(1), word(2), word(3));
        self.read(ReadSize::List, move |conn| {
            let params = params![before(before_seq), w1, w2, w3, w4, limit(max)];
            reader::rows(conn, sql::PUBLIC_TALKS, params, codec::talk)
        })
        .await
    }

    async fn participant(&self, participant_id: ParticipantId) -> Result<Option<Participant>, StoreError> {
        self.read(ReadSize::Point, move |conn| {
            Ok(conn
                .prepare_cached(sql::PARTICIPANT)?
                .query_row([id(&participant_id.0)], codec::participant)
                .optional()?)
        })
        .await
    }

    async fn agent_records(&self, talk_id: TalkId, agent: &AgentId) -> Result<Vec<Participant>, StoreError> {
        let agent = agent.as_str().to_owned();
        self.read(ReadSize::Point, move |conn| {
            reader::rows(conn, sql::AGENT_RECORDS, params![agent, id(&talk_id.0)], codec::participant)
        })
        .await
    }

    /// One read transaction, one trip to the read pool.
    async fn talk_and_records(&self, talk_id: TalkId, agent: &AgentId) -> Result<Option<TalkAndRecords>, StoreError> {
        let agent = agent.as_str().to_owned();
        self.read(ReadSize::Point, move |conn| {
            reader::snapshot(conn, |conn| reader::talk_and_records(conn, talk_id, &agent))
        })
        .await
    }

    /// One read transaction, one trip to the read pool.
    async fn message_and_talk(
        &self,
        message_id: MessageId,
        agent: &AgentId,
        reactors_listed: usize,
    ) -> Result<Option<(Message, TalkAndRecords)>, StoreError> {
        let agent = agent.as_str().to_owned();
        self.read(ReadSize::Point, move |conn| {
            reader::snapshot(conn, |conn| {
                let Some(message) = reader::message(conn, message_id, reactors_listed)? else { return Ok(None) };
                let talk = reader::talk_and_records(conn, message.talk_id, &agent)?;
                Ok(talk.map(|talk| (message, talk)))
            })
        })
        .await
    }

    async fn agent_memberships(&self, agent: &AgentId, after_seq: u64) -> Result<Vec<Participant>, StoreError> {
        let agent = agent.as_str().to_owned();
        let after_seq = after(Some(after_seq));
        self.read(ReadSize::List, move |conn| {
            reader::rows(conn, sql::AGENT_MEMBERSHIPS, params![agent, after_seq], codec::participant)
        })
        .await
    }

    async fn participants(
        &self,
        talk_id: TalkId,
        status: Option<ParticipantStatus>,
        after_seq: Cursor,
        max: usize,
    ) -> Result<Vec<Participant>, StoreError> {
        self.read(ReadSize::List, move |conn| match status {
            None => reader::rows(
                conn,
                sql::PARTICIPANTS,
                params![id(&talk_id.0), after(after_seq), limit(max)],
                codec::participant,
            ),
            Some(status) => reader::rows(
                conn,
                sql::PARTICIPANTS_WITH_STATUS,
                params![id(&talk_id.0), Named::as_str(status), after(after_seq), limit(max)],
                codec::participant,
            ),
        })
        .await
    }

    async fn message(&self, message_id: MessageId, reactors_listed: usize) -> Result<Option<Message>, StoreError> {
        self.read(ReadSize::Point, move |conn| {
            reader::snapshot(conn, |conn| reader::message(conn, message_id, reactors_listed))
        })
        .await
    }

    async fn messages(
        &self,
        talk_id: TalkId,
        include_replies: bool,
        before_seq: Cursor,
        max: usize,
        reactors_listed: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let statement = if include_replies { sql::ALL_MESSAGES } else { sql::TOP_LEVEL_MESSAGES };
        self.read(ReadSize::List, move |conn| {
            reader::snapshot(conn, |conn| {
                reader::messages(
                    conn,
                    statement,
                    params![id(&talk_id.0), before(before_seq), limit(max)],
                    reactors_listed,
                )
            })
        })
        .await
    }

    async fn replies(
        &self,
        parent: MessageId,
        after_seq: Cursor,
        max: usize,
        reactors_listed: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.read(ReadSize::List, move |conn| {
            reader::snapshot(conn, |conn| {
                reader::messages(
                    conn,
                    sql::REPLIES,
                    params![id(&parent.0), after(after_seq), limit(max)],
                    reactors_listed,
                )
            })
        })
        .await
    }

    async fn search_messages(
        &self,
        agent: &AgentId,
        query: &SearchQuery,
        before_seq: Cursor,
        max: usize,
        reactors_listed: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let Some(matching) = reader::fts_query(&query.terms) else { return Ok(Vec::new()) };
        let agent = agent.as_str().to_owned();
        let talk = query.filters.talk_id.map(|t| id(&t.0).to_vec());
        let author = query.filters.agent_id.as_ref().map(|a| a.as_str().to_owned());
        let parent = query.filters.parent_id.map(|m| id(&m.0).to_vec());
        let has_media = i64::from(query.filters.has_media);
        let sent_before = codec::ts_opt(query.filters.before.as_ref()).map_err(StoreError::from)?;
        let sent_after = codec::ts_opt(query.filters.after.as_ref()).map_err(StoreError::from)?;
        self.read(ReadSize::List, move |conn| {
            reader::snapshot(conn, |conn| {
                reader::messages(
                    conn,
                    sql::SEARCH_MESSAGES,
                    params![
                        matching,
                        before(before_seq),
                        agent,
                        talk,
                        author,
                        parent,
                        has_media,
                        sent_before,
                        sent_after,
                        limit(max)
                    ],
                    reactors_listed,
                )
            })
        })
        .await
    }

    async fn reaction(
        &self,
        message_id: MessageId,
        emoji: &Emoji,
        agent: &AgentId,
    ) -> Result<Option<Reaction>, StoreError> {
        let (emoji, agent) = (emoji.as_str().to_owned(), agent.as_str().to_owned());
        self.read(ReadSize::Point, move |conn| {
            Ok(conn
                .prepare_cached(sql::REACTION)?
                .query_row(params![id(&message_id.0), emoji, agent], codec::reaction)
                .optional()?)
        })
        .await
    }

    async fn reactions(
        &self,
        message_id: MessageId,
        emoji: &Emoji,
        after_seq: Cursor,
        max: usize,
    ) -> Result<Vec<Reaction>, StoreError> {
        let emoji = emoji.as_str().to_owned();
        self.read(ReadSize::List, move |conn| {
            reader::rows(
                conn,
                sql::REACTIONS,
                params![id(&message_id.0), emoji, after(after_seq), limit(max)],
                codec::reaction,
            )
        })
        .await
    }

    async fn events(&self, after_seq: u64, max: usize) -> Result<Vec<Event>, StoreError> {
        self.read(ReadSize::List, move |conn| {
            reader::rows(conn, sql::EVENTS, params![after(Some(after_seq)), limit(max)], codec::event)
        })
        .await
    }

    async fn read_marker(&self, participant_id: ParticipantId) -> Result<Option<talk_core::ReadMarker>, StoreError> {
        self.read(ReadSize::Point, move |conn| {
            Ok(conn
                .prepare_cached(sql::READ_MARKER)?
                .query_row([id(&participant_id.0)], codec::read_marker)
                .optional()?)
        })
        .await
    }

    async fn read_markers(
        &self,
        talk_id: TalkId,
        after_seq: Cursor,
        max: usize,
    ) -> Result<Vec<talk_core::ReadMarker>, StoreError> {
        let (after_seq, max) = (after(after_seq), limit(max));
        self.read(ReadSize::List, move |conn| {
            reader::rows(conn, sql::READ_MARKERS, params![id(&talk_id.0), after_seq, max], codec::read_marker)
        })
        .await
    }

    async fn read_numbers(
        &self,
        agent: &AgentId,
        talks: Option<&[TalkId]>,
    ) -> Result<Vec<talk_core::ReadNumbers>, StoreError> {
        let agent = agent.as_str().to_owned();
        let talks: Option<Vec<TalkId>> = talks.map(<[TalkId]>::to_vec);
        self.read(ReadSize::List, move |conn| match talks {
            None => reader::rows(conn, sql::READ_NUMBERS, params![agent], codec::read_numbers),
            Some(talks) => {
                let ids: rusqlite::vtab::array::Array =
                    std::rc::Rc::new(talks.iter().map(|t| rusqlite::types::Value::Blob(id(&t.0).to_vec())).collect());
                reader::rows(conn, sql::READ_NUMBERS_IN, params![agent, ids], codec::read_numbers)
            }
        })
        .await
    }

    async fn agent_events(
        &self,
        agent: &AgentId,
        talk: Option<TalkId>,
        after_seq: u64,
        max: usize,
    ) -> Result<Vec<Event>, StoreError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let agent = agent.as_str().to_owned();
        let after_seq = after(Some(after_seq));
        let (max, bound) = (limit(max), limit(max - 1));
        self.read(ReadSize::List, move |conn| match talk {
            None => reader::rows(conn, sql::AGENT_EVENTS, params![agent, after_seq, bound, max], codec::event),
            Some(talk) => reader::rows(
                conn,
                sql::AGENT_EVENTS_IN_TALK,
                params![agent, after_seq, bound, max, id(&talk.0)],
                codec::event,
            ),
        })
        .await
    }
}

#[cfg(test)]
mod tests;
