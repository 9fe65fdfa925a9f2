//! Reads: a small pool of read-only connections. A read of a few rows runs
//! right on the calling task; a read of a page runs inside
//! `tokio::task::block_in_place` on a multi-threaded Tokio runtime, on the
//! blocking thread pool on a current-thread one; a long read (a backup)
//! always on the blocking pool (see [`ReadPool::run`]). In WAL mode a reader
//! never waits for the writer and sees only committed transactions; a read
//! that takes several queries runs them in one read transaction, so it sees
//! one snapshot.

use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params};
use talk_core::store::{SearchTerm, TalkAndRecords};
use talk_core::{AgentId, Emoji, Message, MessageId, ReactionSummary, TalkId};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::codec::{self, id};
use crate::error::{Error, OpenError};
use crate::options::SqliteOptions;
use crate::sql;
use crate::writer::exec;

/// The read-only connections and the permits that hand them out.
pub(crate) struct ReadPool {
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
    /// How many connections it has.
    size: u32,
}

impl ReadPool {
    /// Opens the pool's connections.
    pub(crate) fn open(path: &Path, options: &SqliteOptions) -> Result<Self, OpenError> {
        let size = u32::try_from(options.read_connections.max(1)).unwrap_or(u32::MAX);
        let idle = (0..size).map(|_| crate::open::open_reader(path, options)).collect::<Result<Vec<_>, _>>()?;
        Ok(Self { idle: Mutex::new(idle), permits: Arc::new(Semaphore::new(size as usize)), size })
    }

    /// Closes the pool: waits for the reads under way (later ones queue
    /// behind), then closes every connection; reads from then on fail with
    /// [`Error::Closed`].
    pub(crate) async fn close(&self) {
        let every = self.permits.acquire_many(self.size).await;
        self.permits.close();
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).clear();
        drop(every);
    }

    /// Runs `read` on an idle connection; waits (asynchronously) for one
    /// when all are busy. Never waits for the writer.
    ///
    /// Where it runs, by `size`: a [`ReadSize::Point`] read (a few rows
    /// found through an index, microseconds on a warm cache) runs right on
    /// the calling task, as any short computation would; handing it to
    /// another thread would cost more than the read (tens of microseconds
    /// here). A [`ReadSize::List`] read (a page, a replay) runs on the
    /// calling thread inside [`tokio::task::block_in_place`] on a
    /// multi-threaded Tokio runtime, which moves the worker's other tasks to
    /// another thread meanwhile, and on the blocking thread pool elsewhere.
    /// A [`ReadSize::Long`] read runs on the blocking thread pool.
    pub(crate) async fn run<T, F>(self: &Arc<Self>, size: ReadSize, read: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Error> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits).acquire_owned().await.map_err(|_| Error::Closed)?;
        match size {
            ReadSize::Point => self.read_now(permit, read),
            ReadSize::List if crate::on_multi_thread_runtime() => {
                tokio::task::block_in_place(|| self.read_now(permit, read))
            }
            ReadSize::List | ReadSize::Long => {
                let pool = Arc::clone(self);
                // The permit goes with the work: if the caller stops waiting,
                // the connection stays taken until the work is done.
                let task = tokio::task::spawn_blocking(move || pool.read_now(permit, read));
                task.await.map_err(|e| Error::ReadTask(e.to_string()))?
            }
        }
    }

    /// Runs `read` here, on an idle connection that `permit` reserved.
    fn read_now<T>(
        &self,
        permit: OwnedSemaphorePermit,
        read: impl FnOnce(&mut Connection) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let _permit = permit;
        let mut lease = Lease { conn: self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop(), pool: self };
        let conn = lease.conn.as_mut().ok_or_else(|| Error::ReadTask("no idle read connection".to_owned()))?;
        read(conn)
    }
}

/// How much a read reads, which decides where it runs (see [`ReadPool::run`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadSize {
    /// A few rows found through an index: one row, one agent's records in
    /// one talk, one message with its reaction summaries.
    Point,
    /// A page of a list or of the log: up to a caller's limit of rows.
    List,
    /// The whole database (a backup).
    Long,
}

/// A connection taken from the pool; goes back on drop, even after a panic,
/// with any read transaction left open rolled back.
struct Lease<'a> {
    conn: Option<Connection>,
    pool: &'a ReadPool,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            self.pool.idle.lock().unwrap_or_else(PoisonError::into_inner).push(conn);
        }
    }
}

/// Runs `read` in one read transaction: every query in it sees the same
/// committed state.
pub(crate) fn snapshot<T>(conn: &Connection, read: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
    exec(conn, sql::BEGIN_READ)?;
    match read(conn) {
        Ok(value) => {
            exec(conn, sql::COMMIT)?;
            Ok(value)
        }
        Err(error) => {
            let _ = exec(conn, sql::ROLLBACK);
            Err(error)
        }
    }
}

/// A `LIMIT` as bound.
pub(crate) fn limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// An exclusive lower bound (`seq > after`); none is below every `seq`.
pub(crate) fn after(cursor: Option<u64>) -> i64 {
    cursor.map_or(-1, |seq| i64::try_from(seq).unwrap_or(i64::MAX))
}

/// An exclusive upper bound (`seq < before`); none is above every `seq`.
pub(crate) fn before(cursor: Option<u64>) -> i64 {
    cursor.map_or(i64::MAX, |seq| i64::try_from(seq).unwrap_or(i64::MAX))
}

/// The FTS5 query of a search's terms (see `message_search` in migration
/// 0006): a prefix is `"word"*`, a phrase `"w1 w2"` (whole tokens in
/// order), all of them required (FTS5's implicit `AND`). Words are
/// talk-core's folded words, letters and digits only, so quoting them is
/// exact. `None` for no term (nothing matches).
pub(crate) fn fts_query(terms: &[SearchTerm]) -> Option<String> {
    let quoted = |words: &[String]| format!("\"{}\"", words.join(" ").replace('"', "\"\""));
    let parts: Vec<String> = terms
        .iter()
        .filter(|term| !term.words().is_empty())
        .map(|term| match term {
            SearchTerm::Prefix(word) => format!("{}*", quoted(std::slice::from_ref(word))),
            SearchTerm::Phrase(words) => quoted(words),
        })
        .collect();
    (!parts.is_empty() && parts.len() == terms.len()).then(|| parts.join(" "))
}

/// A talk and the records of `agent` in it (inside a snapshot).
pub(crate) fn talk_and_records(
    conn: &Connection,
    talk_id: TalkId,
    agent: &str,
) -> Result<Option<TalkAndRecords>, Error> {
    let key = id(&talk_id.0);
    let Some(talk) = conn.prepare_cached(sql::TALK)?.query_row([key], codec::talk).optional()? else {
        return Ok(None);
    };
    let records = conn
        .prepare_cached(sql::AGENT_RECORDS)?
        .query_map(params![agent, key], codec::participant)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(TalkAndRecords { talk, records }))
}

/// Runs a message list query and completes each message with its reactions.
pub(crate) fn messages(
    conn: &Connection,
    statement: &str,
    params: impl rusqlite::Params,
    reactors_listed: usize,
) -> Result<Vec<Message>, Error> {
    let messages =
        conn.prepare_cached(statement)?.query_map(params, codec::message)?.collect::<rusqlite::Result<Vec<_>>>()?;
    with_reactions(conn, messages, reactors_listed)
}

/// One message with its reactions.
pub(crate) fn message(
    conn: &Connection,
    message_id: MessageId,
    reactors_listed: usize,
) -> Result<Option<Message>, Error> {
    let Some(message) = conn.prepare_cached(sql::MESSAGE)?.query_row([id(&message_id.0)], codec::message).optional()?
    else {
        return Ok(None);
    };
    Ok(with_reactions(conn, vec![message], reactors_listed)?.pop())
}

/// Fills the reactions of a page of messages with at most two queries,
/// whatever the number of messages: the summaries (`message_emoji`), then,
/// if there are any, the first reactors of each emoji.
fn with_reactions(conn: &Connection, mut messages: Vec<Message>, listed: usize) -> Result<Vec<Message>, Error> {
    if messages.is_empty() {
        return Ok(messages);
    }
    let ids: rusqlite::vtab::array::Array =
        Rc::new(messages.iter().map(|m| Value::Blob(id(&m.id.0).to_vec())).collect());
    let mut summaries: HashMap<MessageId, Vec<(u64, ReactionSummary)>> = HashMap::new();
    let mut statement = conn.prepare_cached(sql::EMOJI_OF_MESSAGES)?;
    let mut rows = statement.query([Rc::clone(&ids)])?;
    while let Some(row) = rows.next()? {
        let summary =
            ReactionSummary { emoji: codec::emoji(row, 1)?, count: codec::count(row, 3)?, agent_ids: Vec::new() };
        summaries.entry(codec::message_id(row, 0)?).or_default().push((codec::unsigned(row, 2)?, summary));
    }
    if summaries.is_empty() {
        return Ok(messages);
    }
    if listed > 0 {
        let mut reactors: HashMap<(MessageId, Emoji), Vec<(u64, AgentId)>> = HashMap::new();
        let mut statement = conn.prepare_cached(sql::REACTORS_OF_MESSAGES)?;
        let mut rows = statement.query(params![ids, limit(listed - 1)])?;
        while let Some(row) = rows.next()? {
            let key = (codec::message_id(row, 0)?, codec::emoji(row, 1)?);
            reactors.entry(key).or_default().push((codec::unsigned(row, 3)?, codec::agent(row, 2)?));
        }
        for (message_id, entries) in &mut summaries {
            for (_, summary) in entries.iter_mut() {
                if let Some(mut agents) = reactors.remove(&(*message_id, summary.emoji)) {
                    agents.sort_by_key(|(seq, _)| *seq);
                    summary.agent_ids = agents.into_iter().take(listed).map(|(_, agent)| agent).collect();
                }
            }
        }
    }
    for message in &mut messages {
        if let Some(mut entries) = summaries.remove(&message.id) {
            // Emoji keep the place they took when first used on the message.
            entries.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.emoji.cmp(&b.1.emoji)));
            message.reactions = entries.into_iter().map(|(_, summary)| summary).collect();
        }
    }
    Ok(messages)
}

/// Collects the rows of a query.
pub(crate) fn rows<T>(
    conn: &Connection,
    statement: &str,
    params: impl rusqlite::Params,
    row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, Error> {
    Ok(conn.prepare_cached(statement)?.query_map(params, row)?.collect::<rusqlite::Result<Vec<T>>>()?)
}

/// The cursor of the durable consumer `name` (which exists).
pub(crate) fn consumer_cursor(conn: &Connection, name: &str) -> Result<u64, Error> {
    let cursor: i64 = conn.prepare_cached(sql::CONSUMER_CURSOR)?.query_row([name], |row| row.get(0))?;
    crate::error::to_u64(cursor, "consumer cursor")
}

/// Every durable consumer by name, with its owner while the lease lives.
pub(crate) fn consumers(conn: &mut Connection) -> Result<Vec<talk_core::store::ConsumerRecord>, Error> {
    let now = crate::apply::unix_millis();
    let mut statement = conn.prepare_cached(sql::CONSUMERS)?;
    let mut rows = statement.query([])?;
    let mut consumers = Vec::new();
    while let Some(row) = rows.next()? {
        let expires_at: i64 = row.get(3)?;
        consumers.push(talk_core::store::ConsumerRecord {
            name: row.get(0)?,
            cursor: crate::error::to_u64(row.get(1)?, "consumer cursor")?,
            owner: if expires_at > now { Some(row.get(2)?) } else { None },
        });
    }
    Ok(consumers)
}
