//! The writer: one task per store owns one connection and commits the
//! queued change sets in batches (group commit).
//!
//! The loop: wait for a change set; take whatever else is queued, up to the
//! batch bound; `BEGIN` and lock the log's tail (`SELECT … FOR NO KEY
//! UPDATE`), which every writing transaction of every node takes first, so
//! that they run one at a time and commit in `seq` order; for each change
//! set, number its events from the tail in memory and send, in one pipeline
//! (one round trip), `SAVEPOINT`, its guards (`SELECT 1 … FOR SHARE`, one
//! row when the guard holds), its writes (unique keys raise their conflicts
//! by constraint name, a missing row shows as no row changed) and its events;
//! the next pipeline starts by closing the savepoint: `RELEASE` when the
//! change set was applied, `ROLLBACK TO` when it was refused or failed,
//! which undoes it and its `seq` values and fails only its caller. At the
//! end, in one pipeline: the last savepoint closed, the new tail (`UPDATE
//! log_tail`), `pg_notify` of the new head; once all of them answered (so
//! the transaction is known not to be aborted), `COMMIT`; then, and only
//! then, every caller is answered. When anything of the batch's own
//! bookkeeping fails, or the commit does, nobody of the batch is
//! acknowledged: each caller gets an error — `Unavailable` when nothing was
//! applied and later may work (no connection, the session lost before
//! `COMMIT` went out, a timeout or deadlock), `OutcomeUnknown` when the
//! session was lost after `COMMIT` went out, `Backend` when the server
//! rolled back for another reason.
//!
//! Nothing of a batch waits without a bound: the server ends a statement
//! after `statement_timeout` and a session idle in its transaction after
//! `idle_in_transaction_session_timeout`, and the whole batch, connecting
//! included, runs under the earliest deadline of its callers (see
//! [`Writer::run`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use talk_core::store::{ChangeSet, Conflict, StoreError};
use talk_core::{Event, EventData, MessageId};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Statement};

use crate::Shared;
use crate::error::{Error, session_lost, to_i64, to_u64};
use crate::sql;
use crate::steps::{Check, Param, Step, change_set_steps, exec, params};

/// The answer to one change set.
pub(crate) type Reply = oneshot::Sender<Result<Vec<Event>, StoreError>>;

/// A change set queued for the writer, with where to answer.
pub(crate) struct Request {
    pub(crate) changes: ChangeSet,
    pub(crate) reply: Reply,
    /// When the caller stops waiting.
    pub(crate) deadline: Instant,
    /// Set once, by whoever comes first: the writer taking the change set
    /// into a batch, or the caller withdrawing it when its wait ends.
    pub(crate) claimed: Arc<AtomicBool>,
}

/// Claims a change set for whoever calls it first: the writer or its caller.
pub(crate) fn claim(claimed: &AtomicBool) -> bool {
    !claimed.swap(true, Ordering::AcqRel)
}

/// Why a change set was not applied.
#[derive(Debug)]
enum Refusal {
    /// A guard or unique key: the caller's change set is refused.
    Conflict(Conflict),
    /// Something else failed for this change set only.
    Failed(Error),
}

/// A batch failed as a whole.
struct BatchFailed {
    error: Error,
    kind: FailKind,
}

/// What a failed batch left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailKind {
    /// Nothing of it is applied, and later may work: no connection could be
    /// made, the connection was lost (or dropped at the batch's deadline)
    /// before `COMMIT` was sent, or the server gave up on a statement for a
    /// reason of the moment (a timeout, a deadlock).
    NotApplied,
    /// The transaction was rolled back for another reason: nothing of it is
    /// applied.
    RolledBack,
    /// The connection was lost (or dropped at the batch's deadline) after
    /// `COMMIT` was sent: it may or may not have committed.
    Uncertain,
}

impl BatchFailed {
    /// A batch whose transaction is rolled back (or never committed, the
    /// session lost before `COMMIT` went out): nothing of it is applied.
    fn rolled_back(error: impl Into<Error>) -> Self {
        let error = error.into();
        let kind = if error.retry_later() { FailKind::NotApplied } else { FailKind::RolledBack };
        Self { error, kind }
    }

    /// What each caller of the batch is told.
    fn answer(self) -> impl Fn() -> StoreError {
        let (error, kind) = (Arc::new(self.error), self.kind);
        move || {
            let error = Arc::clone(&error);
            StoreError::from(match kind {
                FailKind::NotApplied => Error::NotApplied(error),
                FailKind::RolledBack => Error::BatchRolledBack(error),
                FailKind::Uncertain => Error::CommitUnknown(error),
            })
        }
    }
}

/// The writer's connection and its prepared statements.
struct Connection {
    client: Client,
    driver: JoinHandle<()>,
    statements: HashMap<&'static str, Statement>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl Connection {
    fn statement(&self, sql: &'static str) -> Result<&Statement, Error> {
        self.statements.get(sql).ok_or(Error::Range("statement not prepared by the writer"))
    }

    /// Runs `steps` in one pipeline and answers each one's result, in order.
    async fn pipeline(&self, steps: &[(&'static str, &[Param])]) -> Vec<Result<u64, tokio_postgres::Error>> {
        let mut futures = Vec::with_capacity(steps.len());
        for (sql, params) in steps {
            let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect();
            let client = &self.client;
            let statement = self.statement(sql);
            futures.push(async move {
                match statement {
                    Ok(statement) => client.execute(statement, &refs).await,
                    // Never happens: every statement is prepared on connect.
                    Err(_) => client.execute(*sql, &refs).await,
                }
            });
        }
        // `join_all` polls the futures in order the first time, so each
        // sends its request in order: one round trip for all of them.
        futures::future::join_all(futures).await
    }
}

/// The writer task's state.
pub(crate) struct Writer {
    shared: Arc<Shared>,
    max_batch: usize,
    connection: Option<Connection>,
}

impl Writer {
    pub(crate) fn new(shared: Arc<Shared>, max_batch: usize) -> Self {
        Self { shared, max_batch: max_batch.max(1), connection: None }
    }

    /// Serves `requests` until every sender is gone.
    ///
    /// A batch takes the change sets whose callers still wait, and must be
    /// done by the earliest of their deadlines: past it, the writer drops
    /// its connection (so the server rolls back whatever did not commit)
    /// and answers [`FailKind::NotApplied`], or [`FailKind::Uncertain`] once
    /// `COMMIT` was sent. Every caller of a batch is thus answered by its
    /// own deadline, and its change set is applied whole or not at all.
    pub(crate) async fn run(mut self, mut requests: mpsc::Receiver<Request>) {
        while let Some(first) = requests.recv().await {
            let mut batch = Vec::new();
            let mut next = Some(first);
            while let Some(request) = next {
                take(request, &mut batch);
                next = if batch.len() < self.max_batch { requests.try_recv().ok() } else { None };
            }
            let Some(deadline) = batch.iter().map(|r| r.deadline).min() else { continue };
            let (sets, replies): (Vec<ChangeSet>, Vec<Reply>) = batch.into_iter().map(|r| (r.changes, r.reply)).unzip();
            let started = Instant::now();
            let commit_sent = AtomicBool::new(false);
            let outcome = match tokio::time::timeout_at(deadline, self.commit_batch(sets, &commit_sent)).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    // Whatever is in flight is abandoned with the connection.
                    self.connection = None;
                    let sent = commit_sent.load(Ordering::Acquire);
                    let kind = if sent { FailKind::Uncertain } else { FailKind::NotApplied };
                    Err(BatchFailed { error: Error::TimedOut(started.elapsed()), kind })
                }
            };
            match outcome {
                Ok(results) => {
                    for (reply, result) in replies.into_iter().zip(results) {
                        let _ = reply.send(result.map_err(|refusal| match refusal {
                            Refusal::Conflict(conflict) => StoreError::Conflict(conflict),
                            Refusal::Failed(error) => error.into(),
                        }));
                    }
                }
                Err(failed) => {
                    let answer = failed.answer();
                    for reply in replies {
                        let _ = reply.send(Err(answer()));
                    }
                }
            }
        }
    }

    /// The connection, made (and its statements prepared) if there is none
    /// or the last one closed.
    async fn connect(&mut self) -> Result<(), Error> {
        if self.connection.as_ref().is_some_and(|c| c.client.is_closed()) {
            self.connection = None;
        }
        if self.connection.is_some() {
            return Ok(());
        }
        let name = format!("{} writer", self.shared.application_name);
        let (client, driver) = self.shared.connector.connect(&name, None).await?;
        let prepared = futures::future::join_all(sql::WRITER_STATEMENTS.iter().map(|s| client.prepare(s))).await;
        let mut statements = HashMap::new();
        for (sql, statement) in sql::WRITER_STATEMENTS.iter().zip(prepared) {
            statements.insert(*sql, statement?);
        }
        self.connection = Some(Connection { client, driver, statements });
        Ok(())
    }

    /// Applies a batch in one transaction: answers each change set's result,
    /// or fails the whole batch. Sets `commit_sent` just before `COMMIT`
    /// goes out.
    async fn commit_batch(
        &mut self,
        sets: Vec<ChangeSet>,
        commit_sent: &AtomicBool,
    ) -> Result<Vec<Result<Vec<Event>, Refusal>>, BatchFailed> {
        // A connection the server dropped while idle shows only when used:
        // nothing was applied then, so try once more on a new connection.
        let mut retried = false;
        let tail = loop {
            if let Err(error) = self.connect().await {
                return Err(BatchFailed { error, kind: FailKind::NotApplied });
            }
            let Some(connection) = self.connection.as_ref() else {
                return Err(BatchFailed::rolled_back(Error::WriterStopped));
            };
            match begin(connection).await {
                Ok(tail) => break tail,
                Err(error) if !retried && error.is_connection() => {
                    retried = true;
                    self.connection = None;
                }
                Err(error) => {
                    self.abandon().await;
                    return Err(BatchFailed::rolled_back(error));
                }
            }
        };
        let outcome = match self.connection.as_ref() {
            Some(connection) => apply_all(connection, &self.shared.schema, tail, sets, commit_sent).await,
            None => Err(BatchFailed::rolled_back(Error::WriterStopped)),
        };
        if outcome.is_err() {
            self.abandon().await;
        }
        outcome
    }

    /// Ends a failed batch: rolls back what is left of its transaction, or
    /// drops the connection if even that fails.
    async fn abandon(&mut self) {
        let rolled_back = match self.connection.as_ref() {
            Some(connection) if !connection.client.is_closed() => {
                connection.client.batch_execute(sql::ROLLBACK).await.is_ok()
            }
            _ => false,
        };
        if !rolled_back {
            self.connection = None;
        }
    }
}

/// Adds `request` to `batch` unless its caller withdrew it; one whose
/// caller's wait is over is answered at once instead.
fn take(request: Request, batch: &mut Vec<Request>) {
    if !claim(&request.claimed) {
        return;
    }
    if request.deadline <= Instant::now() {
        let _ = request.reply.send(Err(StoreError::Unavailable(
            "the change set waited for the writer until its caller's wait ended; it was not applied".into(),
        )));
        return;
    }
    batch.push(request);
}

/// `BEGIN` and lock the tail: answers the tail `seq`.
async fn begin(connection: &Connection) -> Result<u64, Error> {
    let begin = connection.client.execute(connection.statement(sql::BEGIN)?, &[]);
    let tail = connection.client.query_one(connection.statement(sql::LOCK_TAIL)?, &[]);
    let (begun, tail) = futures::join!(begin, tail);
    begun?;
    let tail: i64 = tail?.try_get(0)?;
    to_u64(tail, "log_tail.seq")
}

/// Runs every change set of the batch in its own savepoint inside the open
/// transaction whose tail is `tail`, then commits.
async fn apply_all(
    connection: &Connection,
    schema: &str,
    tail: u64,
    sets: Vec<ChangeSet>,
    commit_sent: &AtomicBool,
) -> Result<Vec<Result<Vec<Event>, Refusal>>, BatchFailed> {
    let mut next = tail + 1;
    let mut results = Vec::with_capacity(sets.len());
    // How the previous change set's savepoint is closed, at the head of the
    // next pipeline.
    let mut close: Vec<Step> = Vec::new();
    for changes in sets {
        let resolved = match changes.resolve(next) {
            Ok(resolved) => resolved,
            Err(malformed) => {
                results.push(Err(Refusal::Failed(malformed.into())));
                continue;
            }
        };
        let count = resolved.events.len() as u64;
        let steps = match change_set_steps(&resolved) {
            Ok(steps) => steps,
            Err(error) => {
                results.push(Err(Refusal::Failed(error)));
                continue;
            }
        };
        let mut all = std::mem::take(&mut close);
        all.push(exec(sql::SAVEPOINT, params![], Check::Fatal));
        all.extend(steps);
        match run_steps(connection, all).await? {
            Ok(()) => {
                next += count;
                close.push(exec(sql::RELEASE, params![], Check::Fatal));
                results.push(Ok(resolved.events));
            }
            Err(refusal) => {
                close.push(exec(sql::ROLLBACK_TO, params![], Check::Fatal));
                close.push(exec(sql::RELEASE, params![], Check::Fatal));
                results.push(Err(refusal));
            }
        }
    }
    let head = next - 1;
    let committing = results.iter().any(Result::is_ok);
    let mut last = close;
    if !committing {
        last.push(exec(sql::ROLLBACK, params![], Check::Fatal));
        if let Err(refusal) = run_pipeline(connection, &last).await? {
            return Err(BatchFailed::rolled_back(Error::Tail(format!("rolling back refused: {refusal:?}"))));
        }
        return Ok(results);
    }
    if head > tail {
        let new_tail = to_i64(head, "seq above i64::MAX").map_err(BatchFailed::rolled_back)?;
        last.push(exec(sql::SET_TAIL, params![new_tail], Check::Rows(Conflict::RowMismatch)));
        last.push(exec(sql::NOTIFY, params![sql::CHANNEL, format!("{schema}:{head}")], Check::Fatal));
    }
    // Every statement before `COMMIT` answered: the transaction is not
    // aborted, so `COMMIT` commits or fails, never silently rolls back.
    match run_pipeline(connection, &last).await? {
        Ok(()) => {}
        Err(refusal) => {
            let why = format!("the log's tail could not be moved: {refusal:?}");
            return Err(BatchFailed::rolled_back(Error::Tail(why)));
        }
    }
    let commit = connection.statement(sql::COMMIT).map_err(BatchFailed::rolled_back)?;
    if connection.client.is_closed() {
        // The session ended before `COMMIT` could go out (the server ended an
        // idle transaction, say): its transaction is rolled back.
        return Err(BatchFailed::rolled_back(Error::ConnectionClosed));
    }
    commit_sent.store(true, Ordering::Release);
    match connection.client.execute(commit, &[]).await {
        Ok(_) => Ok(results),
        // A session lost while `COMMIT` was in flight leaves the outcome
        // unknown; a server error at commit rolls back.
        Err(error) if session_lost(&error) => Err(BatchFailed { error: error.into(), kind: FailKind::Uncertain }),
        Err(error) => Err(BatchFailed::rolled_back(error)),
    }
}

/// The statements, parameters and checks of a list of [`Step::Exec`].
#[allow(clippy::type_complexity)]
fn split(steps: &[Step]) -> (Vec<&'static str>, Vec<&[Param]>, Vec<Check>) {
    let mut sqls = Vec::with_capacity(steps.len());
    let mut params = Vec::with_capacity(steps.len());
    let mut checks = Vec::with_capacity(steps.len());
    for step in steps {
        if let Step::Exec { sql, params: p, check } = step {
            sqls.push(*sql);
            params.push(p.as_slice());
            checks.push(check.clone());
        }
    }
    (sqls, params, checks)
}

/// Runs the steps of one change set: in one pipeline, or in one per part
/// between the reads that redaction needs. Answers the change set's
/// outcome, or fails the batch.
async fn run_steps(connection: &Connection, steps: Vec<Step>) -> Result<Result<(), Refusal>, BatchFailed> {
    let mut pending: Vec<Step> = Vec::new();
    for step in steps {
        match step {
            Step::Exec { .. } => pending.push(step),
            Step::Redact(message_id) => {
                if let Err(refusal) = run_pipeline(connection, &std::mem::take(&mut pending)).await? {
                    return Ok(Err(refusal));
                }
                match redaction(connection, message_id).await {
                    Ok(rewrites) => pending.extend(rewrites),
                    Err(error) if error.is_connection() => return Err(BatchFailed::rolled_back(error)),
                    Err(error) => return Ok(Err(Refusal::Failed(error))),
                }
            }
        }
    }
    run_pipeline(connection, &pending).await
}

/// Runs [`Step::Exec`] steps in one pipeline and reads their results in
/// order: the first that fails its check decides.
async fn run_pipeline(connection: &Connection, steps: &[Step]) -> Result<Result<(), Refusal>, BatchFailed> {
    if steps.is_empty() {
        return Ok(Ok(()));
    }
    let (sqls, params, checks) = split(steps);
    let outcomes = connection.pipeline(&sqls.into_iter().zip(params).collect::<Vec<_>>()).await;
    for (check, outcome) in checks.into_iter().zip(outcomes) {
        match (check, outcome) {
            (Check::Fatal, Err(error)) => return Err(BatchFailed::rolled_back(error)),
            (Check::Rows(conflict), Ok(0)) => return Ok(Err(Refusal::Conflict(conflict))),
            (_, Ok(_)) => {}
            (_, Err(error)) if session_lost(&error) => return Err(BatchFailed::rolled_back(error)),
            (_, Err(error)) => return Ok(Err(refusal_of(error))),
        }
    }
    Ok(Ok(()))
}

/// The refusal of a change set for a server error: a unique key is the
/// conflict its index stands for.
fn refusal_of(error: tokio_postgres::Error) -> Refusal {
    let conflict = error.as_db_error().filter(|db| db.code() == &SqlState::UNIQUE_VIOLATION).and_then(|db| {
        match db.constraint()? {
            "talks_pkey" | "participants_pkey" => Some(Conflict::RowMismatch),
            "talks_direct_pair" => Some(Conflict::DirectPairTaken),
            "participants_one_active" => Some(Conflict::ActiveParticipantExists),
            "messages_pkey" => Some(Conflict::MessageIdTaken),
            "reactions_pkey" => Some(Conflict::ReactionExists),
            _ => None,
        }
    });
    match conflict {
        Some(conflict) => Refusal::Conflict(conflict),
        None => Refusal::Failed(error.into()),
    }
}

/// Reads the stored payloads of a message's events and answers the
/// statements that rewrite those that carry its content.
async fn redaction(connection: &Connection, message_id: MessageId) -> Result<Vec<Step>, Error> {
    let rows = connection.client.query(connection.statement(sql::MESSAGE_EVENTS)?, &[&message_id.0]).await?;
    let mut rewrites = Vec::new();
    for row in rows {
        let seq: i64 = row.try_get(0)?;
        let stored: serde_json::Value = row.try_get(1)?;
        let mut data: EventData = serde_json::from_value(stored)?;
        if data.redact_message(message_id) {
            rewrites.push(exec(sql::REWRITE_EVENT, params![seq, serde_json::to_value(&data)?], Check::Any));
        }
    }
    Ok(rewrites)
}

impl Error {
    /// Whether the error is the connection's, not the statement's.
    fn is_connection(&self) -> bool {
        matches!(self, Error::Postgres(error) if session_lost(error))
    }
}
